/**
 * Reading a webhook URL parameter (VoiceUrl, StatusCallback…): an absolute http(s) URL with a
 * host, of at most 4,000 characters (Twilio's limit: https://www.twilio.com/docs/api/errors/21609);
 * an empty value clears the URL (null), as in Twilio; absent is undefined. Each resource answers a
 * bad one with its own Twilio error, which `refuse` makes.
 */
import type { ApiError } from '../errors.js';
import { text, type Params } from './form-params.js';

export const URL_MAX = 4000;

export function callbackUrl(form: Params, name: string, refuse: (name: string, value: string) => ApiError): string | null | undefined {
  const value = text(form, name);
  if (value === undefined) return undefined;
  if (value === '') return null;
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  const usable = parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
  if (!usable || value.length > URL_MAX) throw refuse(name, value.slice(0, 200));
  return value;
}
