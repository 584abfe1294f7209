/**
 * Twilio Access Tokens (https://www.twilio.com/docs/iam/access-tokens) with a Voice grant: the
 * JWT (RFC 7519) a Twilio app's token endpoint makes with the helper library's
 * `jwt.AccessToken` and `AccessToken.VoiceGrant`, so that endpoint works against Conclave
 * unchanged. Header `{typ: 'JWT', alg: 'HS256', cty: 'twilio-fpa;v=1'}` (the library also
 * allows HS384/HS512); payload `jti`, `iss` (the API key, `SK…`), `sub` (the Account SID),
 * `iat`/`nbf`/`exp`, `grants: { identity, voice: { incoming: { allow }, outgoing:
 * { application_sid, params } } }`.
 *
 * Checked: the JWS signature (RFC 7515, HMAC with the key's secret, compared in constant time),
 * that the key exists and belongs to `sub`'s account and the account is active, `exp`/`nbf`
 * with a small allowance for clock skew, a lifetime of at most 24 hours, an identity and a voice
 * grant. Refusals carry Twilio's codes (2010x, 20157).
 *
 * HMAC-SHA2 over two base64url strings is a few lines of node:crypto, so no JWT library is
 * used: a dependency would bring algorithm negotiation (`none`, RS256 with an HMAC key) that
 * has to be turned off again, and it checks nothing more than this does.
 *
 * Conclave's console signs its own tokens with the account's auth token (`iss` = `sub` = the
 * Account SID; POST /console/voice-token): Twilio does not take those, Conclave does, since
 * whoever holds the auth token can do everything a token allows anyway.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock, StoreOperations } from '../domain/ports.js';
import { isSid } from '../domain/sids.js';
import { unsealSecret } from './sealed-secrets.js';

/** Twilio's Access Token error codes (https://www.twilio.com/docs/api/errors/20101 …). */
export const AccessTokenCode = {
  invalid: 20101,
  headerInvalid: 20102,
  issuerInvalid: 20103,
  expired: 20104,
  notYetValid: 20105,
  grantsInvalid: 20106,
  signatureInvalid: 20107,
  lifetimeTooLong: 20157,
} as const;

export class AccessTokenRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'AccessTokenRefused';
  }
}

/** What a valid token lets its bearer do, by voice. */
export interface VoiceAccess {
  accountSid: string;
  /** The API key that signed it (`SK…`), or the Account SID for a console token. */
  issuer: string;
  identity: string;
  /** `incoming.allow`: the bearer may be rung as `client:<identity>`. */
  incomingAllow: boolean;
  /** `outgoing`: the bearer may place calls, which run this Application's TwiML. */
  outgoing: { applicationSid: string; params: Record<string, string> } | undefined;
  /** `exp`, epoch milliseconds. */
  expiresAt: number;
}

const ALGORITHMS: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const CONTENT_TYPE = 'twilio-fpa;v=1';
/** How far the signer's clock may be from ours. */
const SKEW_S = 30;
/** Twilio's longest token lifetime: 24 hours (error 20157). */
const MAX_LIFETIME_S = 86_400;
/** Twilio: "The client identifier may be up to 256 characters", without control characters or spaces. */
const IDENTITY = /^[^\s\p{Cc}]{1,256}$/u;
const APPLICATION_SID = /^AP[0-9a-fA-F]{32}$/;

type TokenStore = Pick<StoreOperations, 'findKey' | 'findAccount' | 'clusterSecret'>;

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sign(algorithm: string, secret: string, signingInput: string): Buffer {
  return createHmac(algorithm, secret).update(signingInput).digest();
}

/** The secret the token's issuer signs with, or a refusal. */
async function signingSecret(store: TokenStore, issuer: string, accountSid: string): Promise<string> {
  const account = await store.findAccount(accountSid);
  if (!account || account.status !== 'active') throw new AccessTokenRefused(AccessTokenCode.issuerInvalid, `Invalid Access Token issuer/subject: account ${accountSid} is not an active account here`);
  if (issuer === accountSid) return account.authToken;
  const key = await store.findKey(issuer);
  if (!key || key.accountSid !== accountSid) {
    throw new AccessTokenRefused(AccessTokenCode.issuerInvalid, `Invalid Access Token issuer/subject: API key ${issuer} does not exist in account ${accountSid} (deleted, or another account's)`);
  }
  if (key.sealedSecret === undefined) {
    throw new AccessTokenRefused(
      AccessTokenCode.invalid,
      `Invalid Access Token: API key ${issuer} was created before Conclave kept key secrets for Access Tokens, so tokens it signs cannot be checked; create a new API key (POST /2010-04-01/Accounts/${accountSid}/Keys) and sign tokens with it`,
    );
  }
  const secret = await unsealSecret(store, key.sealedSecret, key.sid);
  // Sealed under another deployment's key, or not this key's seal: nothing to check a signature with.
  if (secret === undefined) throw new AccessTokenRefused(AccessTokenCode.invalid, `Invalid Access Token: the secret of API key ${issuer} cannot be read here; create a new API key and sign tokens with it`);
  return secret;
}

function stringParams(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  const params: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v !== undefined && v !== null) params[name] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return params;
}

/** The voice grant of a signed, current payload, or a refusal. */
function voiceAccess(payload: Record<string, unknown>, accountSid: string, issuer: string, exp: number): VoiceAccess {
  const grants = payload.grants as Record<string, unknown> | undefined;
  const identity = grants?.identity;
  if (typeof identity !== 'string' || !IDENTITY.test(identity)) {
    throw new AccessTokenRefused(AccessTokenCode.grantsInvalid, 'Invalid Access Token grants: no identity (AccessToken options.identity), or one with spaces or control characters or longer than 256 characters');
  }
  const voice = grants?.voice as Record<string, unknown> | undefined;
  if (typeof voice !== 'object' || voice === null) throw new AccessTokenRefused(AccessTokenCode.grantsInvalid, 'Invalid Access Token grants: no voice grant (add an AccessToken.VoiceGrant)');
  const incoming = voice.incoming as { allow?: unknown } | undefined;
  const outgoing = voice.outgoing as { application_sid?: unknown; params?: unknown } | undefined;
  const applicationSid = outgoing?.application_sid;
  if (applicationSid !== undefined && (typeof applicationSid !== 'string' || !APPLICATION_SID.test(applicationSid))) {
    throw new AccessTokenRefused(AccessTokenCode.grantsInvalid, `Invalid Access Token grants: voice.outgoing.application_sid ${JSON.stringify(applicationSid)} is not an Application SID (AP…)`);
  }
  return {
    accountSid,
    issuer,
    identity,
    incomingAllow: incoming?.allow === true,
    outgoing: typeof applicationSid === 'string' ? { applicationSid, params: stringParams(outgoing?.params) } : undefined,
    expiresAt: exp * 1000,
  };
}

export async function verifyAccessToken(ctx: { store: TokenStore; clock: Clock }, token: string): Promise<VoiceAccess> {
  const parts = token.trim().split('.');
  const [head, body, signature] = parts;
  const header = head === undefined ? undefined : decodePart(head);
  const payload = body === undefined ? undefined : decodePart(body);
  if (parts.length !== 3 || !header || !payload || signature === undefined) {
    throw new AccessTokenRefused(AccessTokenCode.invalid, 'Invalid Access Token: not a JWT (three base64url parts, header and payload JSON objects)');
  }
  const algorithm = typeof header.alg === 'string' ? ALGORITHMS[header.alg] : undefined;
  if (!algorithm || header.cty !== CONTENT_TYPE || (header.typ !== undefined && header.typ !== 'JWT')) {
    throw new AccessTokenRefused(AccessTokenCode.headerInvalid, `Invalid Access Token header: it must have alg HS256 (or HS384/HS512), typ JWT and cty ${CONTENT_TYPE}`);
  }
  const { iss, sub, exp, nbf } = payload;
  if (typeof sub !== 'string' || !isSid(sub, 'AC') || typeof iss !== 'string' || !(isSid(iss, 'SK') || iss === sub)) {
    throw new AccessTokenRefused(AccessTokenCode.issuerInvalid, 'Invalid Access Token issuer/subject: iss must be an API key SID (SK…) and sub the Account SID (AC…)');
  }
  const secret = await signingSecret(ctx.store, iss, sub);
  const expected = sign(algorithm, secret, `${head}.${body}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AccessTokenRefused(AccessTokenCode.signatureInvalid, `Invalid Access Token signature: it was not signed with the secret of ${iss}`);
  }
  const now = ctx.clock.now() / 1000;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new AccessTokenRefused(AccessTokenCode.expired, 'Access Token expiration invalid: no exp');
  if (exp < now - SKEW_S) throw new AccessTokenRefused(AccessTokenCode.expired, `Access Token expired at ${new Date(exp * 1000).toISOString()}`);
  if (exp > now + MAX_LIFETIME_S + SKEW_S) throw new AccessTokenRefused(AccessTokenCode.lifetimeTooLong, 'Access Token expiration time exceeds the maximum of 24 hours (ttl 86400)');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + SKEW_S)) throw new AccessTokenRefused(AccessTokenCode.notYetValid, 'Access Token not yet valid (nbf)');
  return voiceAccess(payload, sub, iss, exp);
}

/**
 * A token as the helper library makes it, signed with `secret` (the console's: the auth token,
 * `issuer` = the Account SID). `ttlSeconds` at most 24 hours.
 */
export function signAccessToken(
  claims: { accountSid: string; issuer: string; identity: string; ttlSeconds: number; incomingAllow: boolean; outgoing?: { applicationSid: string; params?: Record<string, string> } },
  secret: string,
  nowMs: number,
): string {
  const iat = Math.floor(nowMs / 1000);
  const voice: Record<string, unknown> = {};
  if (claims.incomingAllow) voice.incoming = { allow: true };
  if (claims.outgoing) voice.outgoing = { application_sid: claims.outgoing.applicationSid, ...(claims.outgoing.params ? { params: claims.outgoing.params } : {}) };
  const header = { typ: 'JWT', alg: 'HS256', cty: CONTENT_TYPE };
  const payload = { jti: `${claims.issuer}-${iat}`, grants: { identity: claims.identity, voice }, iat, exp: iat + claims.ttlSeconds, iss: claims.issuer, sub: claims.accountSid };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', secret, input).toString('base64url')}`;
}
