/**
 * Twilio-shaped identifiers: two letters naming the kind of resource, then 32 lowercase hex
 * digits (128 random bits), 34 characters in all — the `^AC[0-9a-fA-F]{32}$` patterns of
 * twilio-oai `spec/json/twilio_api_v2010.json`.
 */
import { randomBytes } from 'node:crypto';

/** SD, CL, CR, AL, IP: SIP domains, credential lists, credentials, IP access control lists, IP addresses; AP: applications. */
export type SidPrefix = 'AC' | 'CF' | 'CA' | 'SK' | 'PN' | 'RE' | 'SD' | 'CL' | 'CR' | 'AL' | 'IP' | 'AP';

export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString('hex');
}

const SID_PATTERN = /^[A-Z]{2}[0-9a-fA-F]{32}$/;

export function isSid(value: string, prefix: SidPrefix): boolean {
  return value.length === 34 && value.startsWith(prefix) && SID_PATTERN.test(value);
}

/** A 32-hex-digit secret, shaped like Twilio's auth tokens. */
export function newAuthToken(): string {
  return randomBytes(16).toString('hex');
}

/** An API key secret; shown once, stored only as a hash. */
export function newKeySecret(): string {
  return randomBytes(24).toString('base64url');
}
