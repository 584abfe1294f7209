/**
 * Conclave as the registrar of SIP Domains with `SipRegistration=true` (issue 14 §2, RFC 3261
 * §10.3): a phone signs in with the digest credentials of a credential list mapped to the
 * domain for registrations (401 until it does, SipDomainGuard.admitRegistration), for its own
 * address of record only (the To user must be the username: 403 otherwise), and binds one or
 * more Contacts for a while (`expires` of the Contact, else the Expires header, else
 * DEFAULT_EXPIRES_S; below MIN_EXPIRES_S 423 with Min-Expires, above MAX_EXPIRES_S cut down to
 * it); expires 0 removes a binding and `Contact: *` with `Expires: 0` all of them. The 200 lists
 * every live binding with the seconds it has left (§10.3 step 8).
 *
 * Bindings live in the store, so any node rings a phone that registered with another. Each
 * keeps where its REGISTER came from (RFC 3581: the source address and port, which is what a
 * NAT opened for the phone). Calls go there whenever it is not the Contact's own host and port:
 * a phone behind a NAT writes its private address, which nobody outside reaches, and even one
 * with a public address may be behind a NAT that remaps its port (targetOf).
 *
 * A REGISTER relayed by proxies (an edge proxy such as Kamailio's `add_path_received()`) carries
 * their Path (RFC 3327): it is kept with the binding, echoed in the 200 when the REGISTER's
 * Supported has `path` (§5.3; `Require: path` is accepted; its top entry must name the address
 * the REGISTER came from, else 403), and a call to that binding carries
 * it as a preloaded Route set to the first Path hop (RFC 3261 §8.1.2). Then the Contact is used
 * as written and the source is not: the source is the proxy, and the phone's NAT is the proxy's
 * business (it recorded where the phone is in its own Path entry).
 *
 * A WebRTC client registering over WebSocket (RFC 7118 §5.4) writes a Contact such as
 * `<sip:abc@xyz.invalid;transport=ws>` that no one can reach: the only way back is its
 * connection, whose address is the binding's source (the target names it with `;transport=ws`,
 * and the WebSocket transport keeps the flow table). A binding whose connection is gone is
 * unreachable and counts as not registered (`reaches`). Only the node holding the connection
 * reaches it: on another node the binding counts as not registered either (a call there to the
 * user fails 480 while the browser is registered with a sibling; a front with sticky routing of
 * the domain, or relaying the call to the holding node, would be needed).
 */
import { isIP } from 'node:net';
import type { SipDomain } from '../../domain/sip-domain.js';
import type { SipRegistration } from '../../domain/sip-registration.js';
import { parseNameAddr, parseVia } from '../../sip/header-values.js';
import { callId, cseq, listValues, type SipRequest } from '../../sip/message.js';
import { parseSipUri, serializeSipUri } from '../../sip/sip-uri.js';
import type { SipDestination } from '../../sip/transaction/transport.js';
import { ALLOW, type RegisterResponder } from '../../sip/ua/user-agent.js';
import type { SipDomainGuard } from './sip-domain-guard.js';
import type { SipFloodLog } from './sip-flood-log.js';

/** What the registrar reads and writes of the store (domain/ports.ts). */
export interface SipRegistrationBook {
  saveSipRegistration(registration: SipRegistration): Promise<void>;
  listSipRegistrations(domainSid: string, username: string, now: number): Promise<SipRegistration[]>;
  deleteSipRegistrations(domainSid: string, username: string, contacts?: readonly string[]): Promise<number>;
  deleteExpiredSipRegistrations(now: number): Promise<number>;
}

export interface SipRegistrarLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** §10.2.1.1: what a REGISTER that names no expiry gets (the RFC suggests an hour). */
export const DEFAULT_EXPIRES_S = 3600;
/** §10.3 step 7, §20.23: shorter is refused 423 with this Min-Expires. */
export const MIN_EXPIRES_S = 60;
/** Longer is cut down to this (§10.3 step 7 lets the registrar shorten it): a phone gone silent is forgotten within the hour. */
export const MAX_EXPIRES_S = 3600;
/** How often expired bindings are deleted; reads ignore them meanwhile. */
const SWEEP_EVERY_MS = 60_000;

/** Where one binding is reached: the Request-URI, and the Route set to preload (its Path) when it came through proxies. */
export interface RegisteredTarget {
  uri: string;
  route?: string[];
}

/** A dialled URI whose host is a SIP Domain: where its user's live bindings are reached, most recently registered first. */
export interface RegisteredTargets {
  domain: SipDomain;
  targets: RegisteredTarget[];
}

export class SipRegistrar {
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly guard: SipDomainGuard,
    private readonly book: SipRegistrationBook,
    private readonly log: SipRegistrarLogger,
    private readonly floodLog: SipFloodLog,
    /** Whether this node holds a live connection to a WebSocket binding's source (its flow); none: WebSocket bindings are unreachable. */
    private readonly reaches: (source: SipDestination) => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** A REGISTER from the user agent (§10.3), answered through `respond`. */
  async receive(request: SipRequest, source: SipDestination, respond: RegisterResponder): Promise<void> {
    const uri = parseSipUri(request.uri);
    let domain: SipDomain | undefined;
    try {
      domain = uri ? await this.guard.domainOf(uri.host) : undefined;
    } catch (error) {
      this.log.warn({ err: error }, 'SIP: could not look up the SIP domain of a REGISTER');
      respond(503, { headers: [['Retry-After', '5']] });
      return;
    }
    // Step 1: the Request-URI names the domain; we register for ours only. Any other address
    // takes no REGISTER: 405 with what it does take (§21.4.6).
    if (!domain) {
      respond(405, { reason: 'Method Not Allowed', headers: [['Allow', ALLOW]] });
      return;
    }
    // Step 2: the one extension supported is Path (RFC 3327 §5.3).
    const required = listValues(request, 'Require').filter((tag) => tag.toLowerCase() !== 'path');
    if (required.length > 0) {
      respond(420, { headers: [['Unsupported', required.join(', ')]] });
      return;
    }
    const path = listValues(request, 'Path');
    const pathUris = path.map((value) => parseNameAddr(value)?.sipUri);
    if (pathUris.some((uri) => uri === undefined)) {
      respond(400, { reason: 'Bad Path' });
      return;
    }
    // The top Path entry is the proxy next to us, which sent this REGISTER (RFC 3327 §4):
    // anything else would let a phone point calls at a host of its choosing.
    const nextHop = pathUris[0]?.host.replace(/^\[(.*)\]$/, '$1');
    if (nextHop !== undefined && nextHop !== source.host) {
      respond(403, { reason: 'Path does not start at the sender' });
      return;
    }
    // Step 3: who it is.
    const verdict = await this.guard.admitRegistration(domain, request, source.host);
    if (!verdict.allowed) {
      if (verdict.status === 403) this.floodLog.domainRefused('REGISTER', domain.domainName, source);
      respond(verdict.status, { reason: verdict.status === 401 ? 'Unauthorized' : 'Forbidden', headers: verdict.headers });
      return;
    }
    // Steps 4-5: the address of record is the To; its user must be who signed in.
    const to = parseNameAddr(request.headers.get('To') ?? '')?.sipUri;
    if (!to || to.user === undefined || unescape(to.user) !== verdict.username) {
      respond(403, { reason: 'Forbidden' });
      return;
    }
    const plan = planOf(request);
    if ('status' in plan) {
      respond(plan.status, { reason: plan.reason, headers: plan.headers ?? [] });
      return;
    }
    const username = verdict.username;
    const id = callId(request) ?? '';
    const seq = cseq(request)?.seq ?? 0;
    const now = this.now();
    const current = await this.book.listSipRegistrations(domain.sid, username, now);
    // Step 6-7: a binding from the same Call-ID with a CSeq not above its own is out of order.
    const stale = plan.bindings.some(({ contact }) => current.some((c) => c.contact === contact && c.callId === id && c.cseq >= seq));
    if (stale || (plan.removeAll && current.some((c) => c.callId === id && c.cseq >= seq))) {
      respond(500, { reason: 'Out of order REGISTER' });
      return;
    }
    if (plan.removeAll) {
      await this.book.deleteSipRegistrations(domain.sid, username);
    } else {
      const removed = plan.bindings.filter((b) => b.expires === 0).map((b) => b.contact);
      await this.book.deleteSipRegistrations(domain.sid, username, removed);
      const transport = source.transport ?? (topViaTransport(request) === 'TCP' ? 'tcp' : 'udp');
      for (const b of plan.bindings) {
        if (b.expires === 0) continue;
        await this.book.saveSipRegistration({
          domainSid: domain.sid,
          username,
          contact: b.contact,
          sourceHost: source.host,
          sourcePort: source.port,
          sourceTransport: transport,
          callId: id,
          cseq: seq,
          expiresAt: now + b.expires * 1000,
          registeredAt: now,
          ...(path.length > 0 ? { path } : {}),
        });
      }
    }
    const live = await this.book.listSipRegistrations(domain.sid, username, now);
    if (plan.bindings.length > 0 || plan.removeAll) {
      this.log.info({ domain: domain.domainName, username, source: `${source.host}:${source.port}`, contacts: live.length }, 'SIP: a phone registered');
    }
    const headers: Array<readonly [string, string]> = live.map((r) => ['Contact', `<${r.contact}>;expires=${Math.max(0, Math.round((r.expiresAt - now) / 1000))}`] as const);
    // RFC 3327 §5.3: the Path goes back, in order, only to a phone that said it supports it.
    if (path.length > 0 && listValues(request, 'Supported').some((tag) => tag.toLowerCase() === 'path')) {
      for (const value of path) headers.push(['Path', value]);
    }
    headers.push(['Date', new Date(now).toUTCString()]);
    respond(200, { headers });
  }

  /**
   * A dialled URI whose host is a SIP Domain, with where its user is reached now (no binding:
   * no targets); undefined for any other URI (an IP address, a host DNS will find). The dialled
   * URI's `;secure=true` (SRTP required) goes on to every target.
   */
  async targetsFor(uri: string): Promise<RegisteredTargets | undefined> {
    const sip = parseSipUri(uri);
    if (!sip || sip.user === undefined || isIP(sip.host.replace(/^\[(.*)\]$/, '$1')) !== 0) return undefined;
    const domain = await this.guard.domainOf(sip.host);
    if (!domain) return undefined;
    const live = await this.book.listSipRegistrations(domain.sid, unescape(sip.user), this.now());
    const secure = sip.params.get('secure') === 'true';
    const reachable = live.filter((r) => !overWebSocket(r) || this.reaches({ host: r.sourceHost, port: r.sourcePort, transport: r.sourceTransport }));
    return { domain, targets: reachable.flatMap((r) => targetOf(r, secure) ?? []) };
  }

  /** Stops the sweep. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    try {
      await this.book.deleteExpiredSipRegistrations(this.now());
    } catch (error) {
      this.log.warn({ err: error }, 'SIP: could not sweep expired registrations');
    }
  }

}

/** The REGISTER's Contacts and their expiries, or the error response it gets (§10.3 steps 6-7). */
function planOf(request: SipRequest): RegisterPlan | RegisterRefusal {
    const values = listValues(request, 'Contact');
    const expiresHeader = request.headers.get('Expires')?.trim();
    if (expiresHeader !== undefined && !/^\d{1,10}$/.test(expiresHeader)) return { status: 400, reason: 'Bad Expires' };
    const defaultExpires = expiresHeader === undefined ? DEFAULT_EXPIRES_S : Number(expiresHeader);
    if (values.includes('*')) {
      // §10.2.2: `*` only alone, and only with Expires: 0.
      if (values.length !== 1 || expiresHeader === undefined || Number(expiresHeader) !== 0) return { status: 400, reason: 'Invalid wildcard Contact' };
      return { removeAll: true, bindings: [] };
    }
    const bindings: Binding[] = [];
    for (const value of values) {
      const addr = parseNameAddr(value);
      if (!addr?.sipUri) return { status: 400, reason: 'Bad Contact' };
      const param = addr.params.get('expires');
      if (param !== undefined && (param === null || !/^\d{1,10}$/.test(param))) return { status: 400, reason: 'Bad Contact expires' };
      const asked = param === undefined ? defaultExpires : Number(param);
      if (asked !== 0 && asked < MIN_EXPIRES_S) return { status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(MIN_EXPIRES_S)]] };
      bindings.push({ contact: addr.uri, expires: Math.min(asked, MAX_EXPIRES_S) });
    }
    return { removeAll: false, bindings };
}

interface Binding {
  /** The Contact URI as written. */
  contact: string;
  /** Seconds, 0 to remove. */
  expires: number;
}
interface RegisterPlan {
  removeAll: boolean;
  bindings: Binding[];
}
interface RegisterRefusal {
  status: number;
  reason: string;
  headers?: Array<readonly [string, string]>;
}

/**
 * Where a call to a binding goes: its Contact, with the host and port the REGISTER came from
 * when they are not the Contact's own (the NAT rule above); over TCP (and TLS) the phone's own
 * connection is that address. A binding with a Path keeps its Contact and routes by the Path.
 * `secure` adds `;secure=true`. Undefined for a Contact that is not a SIP URI.
 */
export function targetOf(r: SipRegistration, secure = false): RegisteredTarget | undefined {
  const uri = parseSipUri(r.contact);
  if (!uri) return undefined;
  const params = new Map(uri.params);
  if (secure) params.set('secure', 'true');
  if (r.path && r.path.length > 0) return { uri: secure ? serializeSipUri({ ...uri, params }) : r.contact, route: [...r.path] };
  const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
  const host = uri.host.replace(/^\[(.*)\]$/, '$1');
  if (host === r.sourceHost && port === r.sourcePort) return { uri: secure ? serializeSipUri({ ...uri, params }) : r.contact };
  params.delete('maddr');
  if (r.sourceTransport !== 'udp') params.set('transport', r.sourceTransport);
  return { uri: serializeSipUri({ ...uri, host: r.sourceHost.includes(':') ? `[${r.sourceHost}]` : r.sourceHost, port: r.sourcePort, params }) };
}

/** A binding made over a WebSocket connection (RFC 7118): reached through that connection only. */
function overWebSocket(r: SipRegistration): boolean {
  return r.sourceTransport === 'ws' || r.sourceTransport === 'wss';
}

function topViaTransport(request: SipRequest): string | undefined {
  const via = request.headers.get('Via');
  return via === undefined ? undefined : parseVia(via)?.transport;
}

/** The user part with its %-escapes undone (RFC 3261 §19.1.2); a bad escape stays as written. */
function unescape(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
