/**
 * Who may call into a SIP Domain (issue 14 §2): an INVITE whose Request-URI host is a domain is
 * let in when its source address is in an IP access control list mapped to the domain for
 * calls, or when it carries digest credentials (RFC 3261 §22.3, RFC 2617, RFC 8760 SHA-256)
 * of a credential list mapped for calls; otherwise it is challenged (407 Proxy-Authenticate,
 * MD5; SHA-256 credentials are accepted too) when the domain has credential lists, and refused (403) when it has
 * neither kind of mapping — a domain with no mapping lets nobody in, as Twilio's. A REGISTER
 * is let in the same way by the credential lists mapped for registrations, with 401
 * WWW-Authenticate challenges (admitRegistration).
 *
 * Nonces are stateless — a timestamp signed with a key (HMAC-SHA256) — so any number of
 * challenges costs no memory. The key is the deployment's (a cluster secret in the store), so
 * an answer to one node's challenge is good at every node: a front that spreads INVITEs over
 * the nodes sends a phone's retry with credentials wherever it likes. One lives NONCE_TTL_MS (an older one is answered with a
 * fresh challenge marked `stale=true`, RFC 2617 §3.2.1). Replays are refused: each (nonce, nc)
 * is accepted once, and a nonce without qop (RFC 2069) only once, remembered until it expires —
 * by each node: a captured request replayed to every node of a cluster is let in once by each,
 * within those five minutes, and only for what it asked (the digest covers method and URI).
 * The store keeps HA1s only, never passwords. A source that keeps failing is refused at once for
 * a while, with one log line a minute, while every other source goes on: its budget
 * (source-failure-budget.ts) is the one the calls to numbers from outside the carrier networks
 * spend too, so a scanner's guesses at numbers and at passwords add up.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import type { SipCredential } from '../../domain/sip-credential.js';
import type { SipCredentialPurpose, SipDomain, SipDomainAuth } from '../../domain/sip-domain.js';
import type { SipIpAddress } from '../../domain/sip-ip-access.js';
import { buildChallenge, parseDigestCredentials, verifyDigestHa1 } from '../../sip/digest.js';
import type { SipRequest } from '../../sip/message.js';
import { SourceFailureBudget, type Throttled } from './source-failure-budget.js';
import type { SipRegistrationBook } from './sip-registrar.js';

/** What the guard reads of the store, and the registrar's bindings (kept with the domains it serves). */
export interface SipDomainDirectory extends SipRegistrationBook {
  findSipDomainByName(domainName: string): Promise<SipDomain | undefined>;
  findSipDomainAuth(domainSids: readonly string[]): Promise<Map<string, SipDomainAuth>>;
  findSipDomainCredentials(domainSid: string, purpose: SipCredentialPurpose, username: string): Promise<SipCredential[]>;
  listSipDomainIpAddresses(domainSid: string): Promise<SipIpAddress[]>;
}

export type GuardVerdict =
  | { allowed: true; by: 'ip' | 'digest'; username?: string }
  | {
      allowed: false;
      status: 403 | 407;
      headers: Array<readonly [string, string]>;
      /** The source failed too often and is refused at once; `report` the first time in a while (one log line). */
      throttled?: Throttled;
    };

/** A REGISTER's: whose credentials it carries, or 401 (with the challenges) / 403. */
export type RegistrationVerdict = { allowed: true; username: string } | { allowed: false; status: 401 | 403; headers: Array<readonly [string, string]> };

/** The realm of every challenge: the one the credentials' HA1s were computed for. */
export const SIP_REALM = 'conclave';
const NONCE_TTL_MS = 5 * 60_000;

export interface SipDomainGuardOptions {
  now?: () => number;
  /**
   * Failures a source may have (wrong or replayed credentials, a domain that lets it in no
   * way) before it is refused at once, without a look at the store; shared with the SIP edge.
   */
  failures?: SourceFailureBudget;
  /** The nonces' signing key, the same on every node; a random one (this process alone) when absent. */
  nonceKey?: Buffer;
}

export class SipDomainGuard {
  private readonly key: Buffer;
  private readonly now: () => number;
  readonly failures: SourceFailureBudget;
  /** Nonce → the nc values already accepted for it (a nonce without qop: the empty string), until it expires. */
  private readonly seen = new Map<string, { expires: number; counts: Set<string> }>();

  constructor(
    readonly directory: SipDomainDirectory,
    options: SipDomainGuardOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.failures = options.failures ?? new SourceFailureBudget(this.now);
    this.key = options.nonceKey ?? randomBytes(32);
  }

  /** The domain the Request-URI's host names, if it is one. */
  domainOf(host: string): Promise<SipDomain | undefined> {
    return this.directory.findSipDomainByName(host.toLowerCase());
  }

  async admit(domain: SipDomain, request: SipRequest, sourceAddress: string): Promise<GuardVerdict> {
    const throttled = this.failures.throttled(sourceAddress);
    if (throttled) return { allowed: false, status: 403, headers: [], throttled };
    const verdict = await this.decide(domain, request, sourceAddress);
    // A refusal, or credentials that were given and wrong, spend the source's budget; a first 407 does not.
    if (!verdict.allowed && (verdict.status === 403 || request.headers.has('Proxy-Authorization'))) this.failures.spend(sourceAddress);
    return verdict;
  }

  private async decide(domain: SipDomain, request: SipRequest, sourceAddress: string): Promise<GuardVerdict> {
    const auth = (await this.directory.findSipDomainAuth([domain.sid])).get(domain.sid) ?? { ipAccessControlList: false, credentialList: false };
    if (auth.ipAccessControlList && this.inLists(await this.directory.listSipDomainIpAddresses(domain.sid), sourceAddress)) return { allowed: true, by: 'ip' };
    if (!auth.credentialList) return { allowed: false, status: 403, headers: [] };
    const digest = await this.checkDigest(domain, request, 'calls');
    if (typeof digest === 'object') return { allowed: true, by: 'digest', username: digest.username };
    // Our challenge answered wrongly: refused (as FreeSWITCH does), not challenged again — a
    // new challenge would only have the phone retry the same wrong password for ever.
    if (digest === 'wrong') return { allowed: false, status: 403, headers: [] };
    return this.challenge(digest === 'stale', 'calls');
  }

  /**
   * Who may register to a domain (RFC 3261 §10.3 step 3, §22.4): digest credentials of a
   * credential list mapped for registrations, challenged with 401 WWW-Authenticate (a registrar
   * is the UAS itself, not a proxy); a domain that is not a registrar (`SipRegistration=false`)
   * refuses with 403. IP lists let no one register: a REGISTER names who it is, so it proves it.
   */
  async admitRegistration(domain: SipDomain, request: SipRequest, sourceAddress?: string): Promise<RegistrationVerdict> {
    // A flood of bad REGISTERs from one source is refused at once, as bad INVITEs are.
    if (sourceAddress !== undefined && this.failures.throttled(sourceAddress)) return { allowed: false, status: 403, headers: [] };
    if (!domain.sipRegistration) return { allowed: false, status: 403, headers: [] };
    const digest = await this.checkDigest(domain, request, 'registrations');
    if (typeof digest === 'object') return { allowed: true, username: digest.username };
    if (sourceAddress !== undefined && request.headers.has('Authorization')) this.failures.spend(sourceAddress);
    // Wrong credentials: 403, as for calls — a phone challenged again retries its wrong password
    // at once, and would spend its source's failure budget in a second (then a fixed one waits).
    if (digest === 'wrong') return { allowed: false, status: 403, headers: [] };
    return this.challenge(digest === 'stale', 'registrations');
  }

  /** The request's digest credentials for `purpose`: whose they are when they verify, else why not. */
  private async checkDigest(domain: SipDomain, request: SipRequest, purpose: SipCredentialPurpose): Promise<{ username: string } | 'stale' | 'wrong' | 'none'> {
    const header = request.headers.get(purpose === 'calls' ? 'Proxy-Authorization' : 'Authorization');
    if (header === undefined) return 'none';
    const credentials = parseDigestCredentials(header);
    if (!credentials || credentials.realm !== SIP_REALM) return 'none';
    const nonce = this.checkNonce(credentials.nonce);
    if (nonce === 'stale') return 'stale';
    if (nonce !== 'fresh' || !this.firstUse(credentials.nonce, credentials.nc ?? '')) return 'none';
    const stored = await this.directory.findSipDomainCredentials(domain.sid, purpose, credentials.username);
    const sha = credentials.algorithm.startsWith('SHA-256');
    const match = stored.some((c) => c.realm === SIP_REALM && verifyDigestHa1(credentials, request.method, sha ? c.ha1Sha256 : c.ha1Md5));
    return match ? { username: credentials.username } : 'wrong';
  }

  /** 407 Proxy-Authenticate for a call, 401 WWW-Authenticate for a registration (§22.3, §22.4). */
  private challenge(stale: boolean, purpose: 'calls'): { allowed: false; status: 407; headers: Array<readonly [string, string]> };
  private challenge(stale: boolean, purpose: 'registrations'): { allowed: false; status: 401; headers: Array<readonly [string, string]> };
  private challenge(stale: boolean, purpose: SipCredentialPurpose): { allowed: false; status: 401 | 407; headers: Array<readonly [string, string]> } {
    const nonce = this.newNonce();
    const name = purpose === 'calls' ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    // MD5 alone, for calls and registrations: RFC 8760 §2.4 would offer SHA-256 first, but
    // phones are where SHA-256 is rarest, and a stack that meets an algorithm it does not know
    // fails the whole challenge instead of taking the next (libre before 2.x, so Debian 12's
    // baresip: test/interop/registrar-baresip.test.ts). SHA-256 credentials sent anyway verify.
    const headers = [[name, buildChallenge({ realm: SIP_REALM, nonce, algorithm: 'MD5', stale })] as const];
    return { allowed: false, status: purpose === 'calls' ? 407 : 401, headers };
  }

  private newNonce(): string {
    const stamp = this.now().toString(36);
    return `${stamp}.${this.sign(stamp)}`;
  }

  private sign(stamp: string): string {
    return createHmac('sha256', this.key).update(stamp).digest('base64url').slice(0, 32);
  }

  private checkNonce(nonce: string): 'fresh' | 'stale' | 'bad' {
    const [stamp, signature, extra] = nonce.split('.');
    if (stamp === undefined || signature === undefined || extra !== undefined) return 'bad';
    const expected = Buffer.from(this.sign(stamp));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad';
    const issued = parseInt(stamp, 36);
    return this.now() - issued <= NONCE_TTL_MS ? 'fresh' : 'stale';
  }

  /** True the first time this (nonce, nc) is presented; false for a replay. */
  private firstUse(nonce: string, nc: string): boolean {
    const now = this.now();
    for (const [key, entry] of this.seen) if (entry.expires < now) this.seen.delete(key);
    let entry = this.seen.get(nonce);
    if (!entry) this.seen.set(nonce, (entry = { expires: now + NONCE_TTL_MS, counts: new Set() }));
    if (entry.counts.has(nc) || (nc === '' && entry.counts.size > 0)) return false;
    entry.counts.add(nc);
    return true;
  }

  private inLists(addresses: readonly SipIpAddress[], source: string): boolean {
    const list = new BlockList();
    for (const a of addresses) list.addSubnet(a.ipAddress, a.cidrPrefixLength, isIPv6(a.ipAddress) ? 'ipv6' : 'ipv4');
    return list.check(source, isIPv6(source) ? 'ipv6' : 'ipv4');
  }
}
