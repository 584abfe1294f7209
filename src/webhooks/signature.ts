/**
 * Twilio's `X-Twilio-Signature`: base64(HMAC-SHA1(authToken, url + sorted POST params)), so that
 * an application's existing `twilio.validateRequest` accepts Conclave's webhooks unchanged.
 * https://www.twilio.com/docs/usage/security#validating-requests
 *
 * The signed string is the full URL exactly as requested (with its query string), followed by
 * each POST parameter sorted by name, the name immediately followed by its value. A GET request
 * carries its parameters in the URL, so nothing is appended. A repeated parameter contributes
 * each distinct value, sorted, as twilio-node's validator (`webhooks.ts`) expects.
 */
import { createHmac } from 'node:crypto';

/** Form parameters; an array is a repeated parameter (`Key=a&Key=b`). */
export type WebhookParams = Readonly<Record<string, string | readonly string[]>>;

/** The signature of a request to `url` with `params` in its form body (pass `{}` for GET). */
export function signatureFor(authToken: string, url: string, params: WebhookParams = {}): string {
  let data = url;
  // Default (UTF-16 code unit) order, as twilio-node sorts: byte order for ASCII names.
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const item of values) data += key + item;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}
