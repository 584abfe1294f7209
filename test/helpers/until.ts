/**
 * The one way the tests wait for something that happens asynchronously: poll `check` until it
 * gives a value (anything but undefined, null or false), and fail after `timeoutMs` saying what
 * was awaited. Built on vitest's `vi.waitFor`, which retries while the check throws; never a
 * fixed sleep in its place.
 */
import { vi } from 'vitest';

export type Awaited<T> = Exclude<T, undefined | null | false>;

export function until<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what: string | (() => string) = 'a condition',
  intervalMs = 5,
): Promise<Awaited<T>> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined || value === null || value === false) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
      }
      return value as Awaited<T>;
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}
