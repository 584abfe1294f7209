/**
 * Waits `ms` milliseconds, or less if `signal` aborts first; never rejects. (Node's
 * `timers/promises` rejects on abort, and every waiter here — `<Pause>`, paced fetches — just
 * stops waiting when the call moves on.)
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
