/**
 * Reading Twilio's form and query parameters (PascalCase, values as strings) into typed values.
 * A bad value of a known parameter is a 400 naming the parameter; unknown parameters are ignored,
 * as Twilio ignores them (reference/twilio-api.md §6 #6).
 */
import { invalidParameter } from '../errors.js';

export type Params = Record<string, string | string[] | undefined>;

/**
 * The last value of a parameter (a repeated scalar keeps its last value). A NUL character is
 * refused here, for every typed reader below: PostgreSQL text cannot hold one, and no Twilio
 * value contains one.
 */
export function text(params: Params, name: string): string | undefined {
  const raw = params[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value?.includes('\u0000')) throw invalidParameter(name, 'must not contain a NUL character');
  return value;
}

/**
 * A boolean given as `true`/`false` (any case). With `lenient`, anything but `true` is false —
 * the seed's rule for `Muted`: "Anything other than true or false is interpreted as false."
 */
export function bool(params: Params, name: string, lenient = false): boolean | undefined {
  const value = text(params, name);
  if (value === undefined) return undefined;
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false' || lenient) return false;
  throw invalidParameter(name, `must be true or false, not "${value}"`);
}

export function oneOf<T extends string>(params: Params, name: string, allowed: readonly T[]): T | undefined {
  const value = text(params, name);
  if (value === undefined) return undefined;
  const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!match) throw invalidParameter(name, `must be one of ${allowed.join(', ')}, not "${value}"`);
  return match;
}

export function sid(params: Params, name: string, prefix: string): string | undefined {
  const value = text(params, name);
  if (value === undefined) return undefined;
  if (!new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(value)) {
    throw invalidParameter(name, `must be a ${prefix} SID (${prefix} followed by 32 hex digits), not "${value}"`);
  }
  return value;
}

export function boundedText(params: Params, name: string, max: number): string | undefined {
  const value = text(params, name);
  if (value !== undefined && value.length > max) throw invalidParameter(name, `must be at most ${max} characters`);
  return value;
}

/** `YYYY-MM-DD` as the UTC day it names: [start, end) in epoch ms. */
export function day(params: Params, name: string): { from: number; to: number } | undefined {
  const value = text(params, name);
  if (value === undefined || value === '') return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const from = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  // Date.UTC rolls over (month 13 is next January, day 30 of February is March): a real date reads back the same.
  if (!match || Number.isNaN(from) || new Date(from).toISOString().slice(0, 10) !== value) {
    throw invalidParameter(name, `must be a date written YYYY-MM-DD, not "${value}"`);
  }
  return { from, to: from + 86_400_000 };
}

/** `X=day` is that day; `X<=day` on or before it; `X>=day` on or after it (Twilio's list filters). */
export function dateRange(params: Params, name: string): { from?: number; to?: number } | undefined {
  const on = day(params, name);
  const before = day(params, `${name}<`);
  const after = day(params, `${name}>`);
  if (!on && !before && !after) return undefined;
  const from = Math.max(on?.from ?? -Infinity, after?.from ?? -Infinity);
  const to = Math.min(on?.to ?? Infinity, before?.to ?? Infinity);
  return { ...(Number.isFinite(from) ? { from } : {}), ...(Number.isFinite(to) ? { to } : {}) };
}
