/**
 * Finds the servers for a SIP URI (RFC 3263 §4): which transport, IP address and port to send
 * a request to, as a list to try in order — the next one after a failure (§4.3: a timeout, a
 * transport error or a 503).
 *
 * The target is the URI's `maddr` or else its host (§4). Then:
 * - §4.1 transport: the URI's `transport` parameter; else, for a numeric host or one with a
 *   port, UDP (TLS over TCP for `sips:`); else the NAPTR records of the host with a service
 *   this client speaks (SIP+D2U, SIP+D2T, SIPS+D2T; only SIPS+D2T for `sips:`), lowest
 *   order and preference first; without any, the SRV records of each transport it speaks;
 *   without any either, UDP (TLS for `sips:`).
 * - §4.2 address and port: a numeric host as written (the default port when none is given);
 *   a host with a port: its A records at that port; else the SRV records (RFC 2782 order, see
 *   dns-record-order.ts) each with its A records, and when there are none the host's A
 *   records at the transport's default port (5060, 5061 for TLS).
 *
 * IPv4 only (A records, no AAAA): Conclave's SIP sockets are IPv4. Lookups go to the
 * configured DNS servers (CONCLAVE_SIP_DNS_SERVERS) or the system's (/etc/resolv.conf), through
 * node:dns's c-ares resolver, which asks for NAPTR and SRV as getaddrinfo cannot. A lookup that
 * fails (no such name, no records, a server that refuses) counts as no records, so the next
 * step of §4 still runs; only when every step finds nothing is the URI unresolvable.
 */
import type { NaptrRecord, SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';
import type { SipUri } from '../sip-uri.js';
import { orderNaptr, orderSrv } from './dns-record-order.js';

export type SipTargetTransport = 'udp' | 'tcp' | 'tls';

/** One place to send a request: an IP address, a port and a transport. */
export interface SipTarget {
  transport: SipTargetTransport;
  host: string;
  port: number;
}

export interface SipResolverOptions {
  /** DNS servers (`ip` or `ip:port`, `[ipv6]:port`); absent: the system's. */
  servers?: readonly string[];
  /** The transports this client speaks, in the order to try their SRV records without NAPTR (default UDP, TCP). */
  transports?: readonly SipTargetTransport[];
  /** One query's wait before c-ares retries it (ms), and its attempts per server. */
  queryTimeoutMs?: number;
  tries?: number;
  /** Math.random, or a fixed draw for tests (RFC 2782 weights). */
  random?: () => number;
}

/** The URI's host has no SIP server this client can reach. */
export class SipResolutionError extends Error {
  override readonly name = 'SipResolutionError';
}

/** RFC 3263 §4.1's NAPTR services and the transport each means. */
const NAPTR_SERVICES: Readonly<Record<string, SipTargetTransport>> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls' };

/** RFC 3263 §4.1's SRV names per transport, for a sip: URI (a sips: URI only ever uses TLS). */
const SRV_PREFIX: Readonly<Record<SipTargetTransport, string>> = { udp: '_sip._udp', tcp: '_sip._tcp', tls: '_sips._tcp' };

/** RFC 3261 §19.1.2: 5060, and 5061 for TLS. */
export function defaultPort(transport: SipTargetTransport): number {
  return transport === 'tls' ? 5061 : 5060;
}

/**
 * c-ares waits 5 s and tries 4 times per server by default: 20 s before a dead server is given
 * up on, longer than a caller waits for a ring. 2 s twice is still far beyond a healthy
 * server's answer (a few ms to a few hundred).
 */
const QUERY_TIMEOUT_MS = 2_000;
const TRIES = 2;

export class SipResolver {
  private readonly dns: Resolver;
  private readonly transports: readonly SipTargetTransport[];
  private readonly random: () => number;
  private isClosed = false;

  constructor(options: SipResolverOptions = {}) {
    this.dns = new Resolver({ timeout: options.queryTimeoutMs ?? QUERY_TIMEOUT_MS, tries: options.tries ?? TRIES });
    if (options.servers && options.servers.length > 0) this.dns.setServers([...options.servers]);
    this.transports = options.transports ?? ['udp', 'tcp'];
    this.random = options.random ?? Math.random;
  }

  /**
   * Where to send a request for `uri`, best first (never empty). Rejects with a
   * SipResolutionError when DNS names no server this client can use.
   */
  async resolve(uri: SipUri): Promise<SipTarget[]> {
    const maddr = uri.params.get('maddr');
    const target = (typeof maddr === 'string' ? maddr : uri.host).replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
    const secure = uri.scheme === 'sips';
    const explicit = this.explicitTransport(uri, secure);
    const numeric = isIP(target) !== 0;
    // §4.1: with no transport given, a numeric host or an explicit port means UDP (TLS for sips:).
    const plain = explicit ?? (numeric || uri.port !== undefined ? this.plainTransport(uri, secure) : undefined);
    if (plain !== undefined && numeric) return [{ transport: plain, host: target, port: uri.port ?? defaultPort(plain) }];
    if (plain !== undefined && uri.port !== undefined) return nonEmpty(await this.atPort(target, plain, uri.port), target);

    let srv: Array<{ transport: SipTargetTransport; records: SrvRecord[] }>;
    let chosen = plain;
    if (plain !== undefined) {
      // §4.2: a transport given in the URI: the SRV records of that transport only.
      srv = [{ transport: plain, records: await this.srv(`${secure ? '_sips._tcp' : SRV_PREFIX[plain]}.${target}`) }];
    } else {
      srv = await this.viaNaptr(target, secure);
      chosen = srv[0]?.transport;
      if (srv.length === 0) srv = await this.srvPerTransport(target, secure);
    }
    const targets = await this.addressesOf(srv);
    if (targets.length > 0) return targets;
    // §4.2: no SRV records: the host's own A records at the default port, over the transport
    // chosen so far (given, or the first NAPTR's), else UDP (TLS for sips:).
    const fallback = chosen ?? this.plainTransport(uri, secure);
    return nonEmpty(await this.atPort(target, fallback, defaultPort(fallback)), target);
  }

  /** Cancels the lookups under way (they reject with ECANCELLED); idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.dns.cancel();
  }

  /** The URI's `transport` parameter (§4.1); undefined when none; throws when not one we speak. */
  private explicitTransport(uri: SipUri, secure: boolean): SipTargetTransport | undefined {
    const param = uri.params.get('transport');
    if (typeof param !== 'string') return undefined;
    const name = param.toLowerCase();
    // A sips: URI over TCP means TLS over TCP (RFC 3261 §26.2.2).
    const transport: SipTargetTransport | undefined = name === 'tls' || (secure && name === 'tcp') ? 'tls' : name === 'udp' || name === 'tcp' ? name : undefined;
    if (transport === undefined || !this.transports.includes(transport)) {
      throw new SipResolutionError(`${serializeHost(uri)}: transport ${param} is not one Conclave speaks (${this.transports.join(', ')})`);
    }
    return transport;
  }

  private plainTransport(uri: SipUri, secure: boolean): SipTargetTransport {
    if (secure && !this.transports.includes('tls')) throw new SipResolutionError(`${serializeHost(uri)}: sips: needs TLS, which Conclave does not speak yet`);
    return secure ? 'tls' : 'udp';
  }

  /** §4.1 without NAPTR records: the SRV records of each transport we speak (only TLS for sips:). */
  private srvPerTransport(target: string, secure: boolean): Promise<Array<{ transport: SipTargetTransport; records: SrvRecord[] }>> {
    const transports = this.transports.filter((t) => !secure || t === 'tls');
    return Promise.all(transports.map(async (transport) => ({ transport, records: await this.srv(`${SRV_PREFIX[transport]}.${target}`) })));
  }

  /** §4.1: the NAPTR records with a service we speak, each with its SRV records, in order. */
  private async viaNaptr(target: string, secure: boolean): Promise<Array<{ transport: SipTargetTransport; records: SrvRecord[] }>> {
    const naptr = orderNaptr(await this.lookup(() => this.dns.resolveNaptr(target))).filter((r) => usable(r, secure, this.transports));
    return Promise.all(naptr.map(async (r) => ({ transport: NAPTR_SERVICES[r.service.toUpperCase()] as SipTargetTransport, records: await this.srv(r.replacement) })));
  }

  private async srv(name: string): Promise<SrvRecord[]> {
    // RFC 2782: a single record with target "." means the service is decidedly not there.
    return orderSrv((await this.lookup(() => this.dns.resolveSrv(name))).filter((r) => r.name !== '' && r.name !== '.'), this.random);
  }

  /** Each SRV record's A records, in the records' order, without repeats. */
  private async addressesOf(srv: Array<{ transport: SipTargetTransport; records: SrvRecord[] }>): Promise<SipTarget[]> {
    const lists = await Promise.all(srv.flatMap(({ transport, records }) => records.map((r) => this.atPort(r.name, transport, r.port))));
    const seen = new Set<string>();
    return lists.flat().filter((t) => {
      const key = `${t.transport} ${t.host} ${t.port}`;
      return !seen.has(key) && seen.add(key) !== undefined;
    });
  }

  /** A name's A records (an IPv4 literal as itself), each at `port`. */
  private async atPort(name: string, transport: SipTargetTransport, port: number): Promise<SipTarget[]> {
    const addresses = isIPv4(name) ? [name] : await this.lookup(() => this.dns.resolve4(name));
    return addresses.map((host) => ({ transport, host, port }));
  }

  /** A lookup whose failure (no name, no data, refused, timed out) means no records. */
  private async lookup<T>(query: () => Promise<T[]>): Promise<T[]> {
    if (this.isClosed) throw new SipResolutionError('the SIP resolver is closed');
    try {
      return await query();
    } catch {
      if (this.isClosed) throw new SipResolutionError('the SIP resolver is closed');
      return [];
    }
  }
}

/** Whether a NAPTR record leads to SRV records of a service we speak (§4.1: flag "s"). */
function usable(record: NaptrRecord, secure: boolean, transports: readonly SipTargetTransport[]): boolean {
  const transport = NAPTR_SERVICES[record.service.toUpperCase()];
  if (record.flags.toLowerCase() !== 's' || record.replacement === '' || transport === undefined) return false;
  return transports.includes(transport) && (!secure || transport === 'tls');
}

function nonEmpty(targets: SipTarget[], target: string): SipTarget[] {
  if (targets.length === 0) throw new SipResolutionError(`${target}: DNS names no SIP server (no NAPTR, SRV or A records Conclave can use)`);
  return targets;
}

function serializeHost(uri: SipUri): string {
  return uri.port === undefined ? uri.host : `${uri.host}:${uri.port}`;
}
