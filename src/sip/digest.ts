/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617 §3, RFC 8760 for the
 * SHA-256 algorithms): parsing WWW-Authenticate / Proxy-Authenticate challenges, computing the
 * request-digest with or without `qop=auth` (nc, cnonce), writing Authorization /
 * Proxy-Authorization credentials, and verifying them on the server side.
 *
 * `auth-int` is not implemented: a challenge offering only `auth-int` is answered as if it had
 * no qop, which the server will reject; we never offer it when challenging.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** The qop values offered, lower-cased (`auth`, `auth-int`); empty for an RFC 2069 challenge. */
  qop: string[];
  stale: boolean;
}

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  opaque?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}

const ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'];

/** `Digest a="x", b=y` → lower-cased names and unquoted values; undefined when not Digest. */
export function parseDigestParams(value: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!m) return undefined;
  const text = m[1] as string;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while (re.lastIndex < text.length && (match = re.exec(text)) !== null) {
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
    params.set((match[1] as string).toLowerCase(), raw);
    if (match[0].length === 0) break;
  }
  return params;
}

function algorithmOf(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  return ALGORITHMS.find((a) => a.toLowerCase() === value.toLowerCase());
}

/** A WWW-Authenticate or Proxy-Authenticate value; undefined when unusable. */
export function parseDigestChallenge(value: string): DigestChallenge | undefined {
  const params = parseDigestParams(value);
  if (!params) return undefined;
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const algorithm = algorithmOf(params.get('algorithm'));
  if (realm === undefined || nonce === undefined || algorithm === undefined) return undefined;
  const challenge: DigestChallenge = {
    realm,
    nonce,
    algorithm,
    qop: (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean),
    stale: params.get('stale')?.toLowerCase() === 'true',
  };
  const opaque = params.get('opaque');
  if (opaque !== undefined) challenge.opaque = opaque;
  return challenge;
}

/** An Authorization or Proxy-Authorization value; undefined when not Digest or incomplete. */
export function parseDigestCredentials(value: string): DigestCredentials | undefined {
  const params = parseDigestParams(value);
  if (!params) return undefined;
  const username = params.get('username');
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const uri = params.get('uri');
  const response = params.get('response');
  const algorithm = algorithmOf(params.get('algorithm'));
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined || algorithm === undefined) {
    return undefined;
  }
  const credentials: DigestCredentials = { username, realm, nonce, uri, response, algorithm };
  for (const key of ['opaque', 'qop', 'nc', 'cnonce'] as const) {
    const v = params.get(key);
    if (v !== undefined) credentials[key] = v;
  }
  return credentials;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(text, 'utf8').digest('hex');
}

export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  algorithm?: DigestAlgorithm;
  /** `auth` or absent (RFC 2069 compatibility). */
  qop?: string;
  /** 8 hex digits, `00000001` for the first use of a nonce. */
  nc?: string;
  cnonce?: string;
}

/** The request-digest of RFC 2617 §3.2.2.1 (hex). */
export function digestResponse(input: DigestInput): string {
  const algorithm = input.algorithm ?? 'MD5';
  return responseFromHa1({ ...input, algorithm, ha1: hash(algorithm, `${input.username}:${input.realm}:${input.password}`) });
}

/** The request-digest from a stored HA1 (a server that keeps H(username:realm:password), never the password). */
function responseFromHa1(input: Omit<DigestInput, 'password' | 'username' | 'realm'> & { algorithm: DigestAlgorithm; ha1: string }): string {
  const { algorithm } = input;
  let ha1 = input.ha1;
  if (algorithm.endsWith('-sess')) ha1 = hash(algorithm, `${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const ha2 = hash(algorithm, `${input.method}:${input.uri}`);
  if (input.qop === 'auth') {
    return hash(algorithm, `${ha1}:${input.nonce}:${input.nc ?? '00000001'}:${input.cnonce ?? ''}:auth:${ha2}`);
  }
  return hash(algorithm, `${ha1}:${input.nonce}:${ha2}`);
}

/**
 * Checks credentials against a stored HA1 (MD5 or SHA-256, by the credentials' algorithm):
 * true when `response` is right for the method and the credentials' own nonce, uri, qop, nc
 * and cnonce. The caller checks the nonce is one it issued, fresh, and not replayed.
 */
export function verifyDigestHa1(credentials: DigestCredentials, method: string, ha1: string): boolean {
  const c = credentials;
  if (c.qop !== undefined && (c.qop !== 'auth' || c.nc === undefined || c.cnonce === undefined)) return false;
  const expected = responseFromHa1({
    algorithm: c.algorithm,
    ha1,
    nonce: c.nonce,
    method,
    uri: c.uri,
    ...(c.qop !== undefined ? { qop: c.qop, nc: c.nc as string, cnonce: c.cnonce as string } : {}),
  });
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(c.response.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface AuthorizeOptions {
  username: string;
  password: string;
  method: string;
  /** The Request-URI of the request being authorised (§22.4: the digest-uri). */
  uri: string;
  /** Nonce count, default 1. */
  nc?: number;
  cnonce?: string;
}

const quote = (v: string): string => `"${v.replace(/(["\\])/g, '\\$1')}"`;

/** The Authorization / Proxy-Authorization value answering `challenge`. */
export function buildAuthorization(challenge: DigestChallenge, options: AuthorizeOptions): string {
  const qop = challenge.qop.includes('auth') ? 'auth' : undefined;
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = options.cnonce ?? randomBytes(8).toString('hex');
  const response = digestResponse({
    username: options.username,
    password: options.password,
    realm: challenge.realm,
    nonce: challenge.nonce,
    method: options.method,
    uri: options.uri,
    algorithm: challenge.algorithm,
    ...(qop ? { qop, nc, cnonce } : {}),
  });
  const parts = [
    `username=${quote(options.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(options.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}

export interface ChallengeOptions {
  realm: string;
  nonce?: string;
  opaque?: string;
  algorithm?: DigestAlgorithm;
  stale?: boolean;
}

/** A WWW-Authenticate / Proxy-Authenticate value offering qop=auth. */
export function buildChallenge(options: ChallengeOptions): string {
  const parts = [
    `realm=${quote(options.realm)}`,
    `nonce=${quote(options.nonce ?? randomBytes(16).toString('hex'))}`,
    `algorithm=${options.algorithm ?? 'MD5'}`,
    `qop="auth"`,
  ];
  if (options.opaque !== undefined) parts.push(`opaque=${quote(options.opaque)}`);
  if (options.stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

export interface VerifyOptions {
  method: string;
  /** The password for a username and realm, or one fixed password; undefined → unknown user. */
  password: string | ((username: string, realm: string) => string | undefined);
  /** When given, the credentials must be for this realm. */
  realm?: string;
  /** When given, the credentials must answer this nonce (the one the server issued). */
  nonce?: string;
  /** When given, the credentials' digest-uri must equal it (§22.4 Request-URI check). */
  uri?: string;
}

/** Checks an Authorization / Proxy-Authorization value; false for anything malformed. */
export function verifyDigest(authorization: string, options: VerifyOptions): boolean {
  const c = parseDigestCredentials(authorization);
  if (!c) return false;
  if (options.realm !== undefined && c.realm !== options.realm) return false;
  if (options.nonce !== undefined && c.nonce !== options.nonce) return false;
  if (options.uri !== undefined && c.uri !== options.uri) return false;
  if (c.qop !== undefined && (c.qop !== 'auth' || c.nc === undefined || c.cnonce === undefined)) return false;
  const password = typeof options.password === 'string' ? options.password : options.password(c.username, c.realm);
  if (password === undefined) return false;
  const expected = digestResponse({
    username: c.username,
    password,
    realm: c.realm,
    nonce: c.nonce,
    method: options.method,
    uri: c.uri,
    algorithm: c.algorithm,
    ...(c.qop !== undefined ? { qop: c.qop, nc: c.nc as string, cnonce: c.cnonce as string } : {}),
  });
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(c.response.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
