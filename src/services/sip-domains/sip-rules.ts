/**
 * What Twilio accepts in the SIP resources, and the codes it refuses with
 * (https://www.twilio.com/docs/api/errors): 21231 "Domain Validation Error" and 21240
 * "Credential List Validation Error", whose causes include a username over 32 characters and
 * a password under Twilio's rule — 12 characters or more, a digit, upper and lower case
 * (twilio-oai CreateSipCredential `Password`). IP addresses have no code of their own: 20001.
 */
import { isIP } from 'node:net';
import { TwilioCode, RuleViolation } from '../../errors.js';

export const SipCode = { domainValidation: 21231, credentialListValidation: 21240 } as const;

const PASSWORD_MIN = 12;
/** Far above any password a phone is given; bounds the hashing work per request. */
const PASSWORD_MAX = 255;
const USERNAME_MAX = 32;
/**
 * RFC 3261 §25.1 `user`: unreserved and user-unreserved characters (escapes left out, so that
 * the name a phone sends and the one stored compare as they are). `:` is not among them, which
 * keeps `username:realm:password` unambiguous for HA1.
 */
const USERNAME = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/;

export function requireUsername(username: string): void {
  if (username.length === 0 || username.length > USERNAME_MAX || !USERNAME.test(username)) {
    throw new RuleViolation(
      SipCode.credentialListValidation,
      `Invalid Username "${username.slice(0, 64)}": 1 to ${USERNAME_MAX} characters allowed in the user part of a SIP URI (letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /)`,
    );
  }
}

/** Twilio's strength rule; the password itself is hashed and dropped by the caller. */
export function requirePassword(password: string): void {
  const strong =
    password.length >= PASSWORD_MIN && password.length <= PASSWORD_MAX && /[0-9]/.test(password) && /[a-z]/.test(password) && /[A-Z]/.test(password);
  if (!strong) {
    throw new RuleViolation(
      SipCode.credentialListValidation,
      `Invalid Password: it must have ${PASSWORD_MIN} to ${PASSWORD_MAX} characters, at least one digit, one lower-case and one upper-case letter`,
    );
  }
}

/**
 * A DNS host name (RFC 1123 §2.1: labels of letters, digits and inner hyphens, up to 63
 * characters, 253 in all), in lower case. Twilio requires names ending in `.sip.twilio.com`;
 * Conclave takes any name its user points at it, which is what the Request-URI's host will be.
 * An address literal is refused: the last label of a name is never all digits.
 */
export function normaliseDomainName(value: string): string {
  const name = value.toLowerCase();
  const labels = name.split('.');
  const valid =
    name.length <= 253 &&
    labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) &&
    !/^\d+$/.test(labels[labels.length - 1]!);
  if (!valid) {
    throw new RuleViolation(
      SipCode.domainValidation,
      `Invalid DomainName "${value.slice(0, 300)}": a DNS host name (letters, digits and "-", labels separated by dots) that resolves to this Conclave`,
    );
  }
  return name;
}

export interface CidrBlock {
  ipAddress: string;
  cidrPrefixLength: number;
}

/**
 * An IPv4 address in dotted decimal (Twilio's only kind) or an IPv6 address (Conclave's
 * addition), with a prefix length from 1 to 32 (128): the whole address when not given.
 * Twilio's spec gives a default of 0, but documents "by default the entire IP address is
 * used"; a 0 would let every source in, so it is refused.
 */
export function cidrBlock(ipAddress: string, prefix: string | undefined): CidrBlock {
  // A zone index (`fe80::1%eth0`) names an interface of one host: no use in a list of sources.
  const family = ipAddress.includes('%') ? 0 : isIP(ipAddress);
  if (family === 0) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid IpAddress "${ipAddress.slice(0, 64)}": an IPv4 address in dotted decimal, or an IPv6 address`);
  }
  const bits = family === 4 ? 32 : 128;
  if (prefix === undefined || prefix === '') return { ipAddress: canonicalIp(ipAddress, family), cidrPrefixLength: bits };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) < 1 || Number(prefix) > bits) {
    throw new RuleViolation(TwilioCode.invalidParameter, `Invalid CidrPrefixLength "${prefix.slice(0, 16)}": an integer from 1 to ${bits} for an IPv${family} address`);
  }
  return { ipAddress: canonicalIp(ipAddress, family), cidrPrefixLength: Number(prefix) };
}

/** One spelling per address, so that the SIP side compares strings: IPv4 as given (isIP takes only canonical dotted decimal), IPv6 as the URL parser writes it. */
function canonicalIp(ipAddress: string, family: number): string {
  return family === 4 ? ipAddress : new URL(`http://[${ipAddress}]/`).hostname.slice(1, -1);
}
