/**
 * UDP and TCP on one host:port behind the single SipTransport the transaction layer and the
 * user agent take (RFC 3261 §18: every UA must implement both, §18.1.1 picks the transport
 * per next hop, and the Via carries the one actually used).
 *
 * Which transport a message goes on:
 * - a response: the transport in its top Via, i.e. the one its request came on (§18.2.2);
 * - a request: `destination.transport` when given, else the `;transport=` parameter of the
 *   next-hop URI (the first Route when there is one, else the Request-URI), else UDP.
 * Before a request leaves, the protocol of its top Via is set to the transport used when
 * that Via is ours (sent-by equals our address) — the §18.1.1 rule that the transport fills
 * in sent-by — so a UA that always writes `SIP/2.0/UDP` still sends a correct Via over TCP.
 * The message object is changed in place, so retransmissions, CANCEL and the ACK of a
 * failure (which copy the INVITE's Via) stay consistent with it.
 *
 * Reliability: the SipTransport interface has a single `reliable` flag, which the transaction
 * state machines read right after each send (to start or skip Timers A/E/G, and pick Timers
 * D/I/J/K) and while a received message is dispatched (response routing, Timer I). Here it
 * reports the transport of the message being sent or received last, which is what those
 * reads mean. Reads at other moments (a TU answering later) may see the other transport;
 * the effect is bounded: response routing does not depend on it (the Via and the inbound
 * connection decide), and a wrong wait timer only changes how long a finished transaction
 * lingers. `reliableFor()` gives the per-destination answer for callers that can use it.
 */
import { serializeVia, sentBy } from '../header-values.js';
import { topVia, type SipMessage, type SipRequest } from '../message.js';
import { parseNameAddr, serializeNameAddr } from '../header-values.js';
import { parseSipUri } from '../sip-uri.js';
import type { SipDestination, SipTransport } from '../transaction/transport.js';
import { SipUdpTransport } from '../udp-transport.js';
import { SipTcpTransport, type TcpTransportOptions } from './tcp-transport.js';

export type SipTransportName = 'udp' | 'tcp';

export interface CombinedTransportOptions {
  /** Address to bind both on; default 127.0.0.1. */
  host?: string;
  /** Port for both; default 0: a free port that is free for both UDP and TCP. */
  port?: number;
  maxHeaderBytes?: number;
  /** TCP settings (message size, idle timeout, connection limits). */
  tcp?: Omit<TcpTransportOptions, 'host' | 'port' | 'onMessage' | 'onMalformed' | 'onError' | 'maxHeaderBytes' | 'drop'>;
  /**
   * Add `;transport=tcp` to our own Contact (host:port equal to ours, no transport yet) in
   * messages sent over TCP, so the peer keeps using TCP for requests in the dialog (ACK,
   * BYE, re-INVITE) instead of UDP, which a URI without a transport means (§18.1.1, RFC
   * 3263 §4.1). Default true.
   */
  contactTransport?: boolean;
  onMessage?: (message: SipMessage, source: SipDestination) => void;
  /** Before parsing, on either transport: true to drop a message unread (its source is flooding; UDP sources carry no `transport`). */
  drop?: (data: Buffer, source: SipDestination) => boolean;
  /** Malformed input on either transport; `closed` when a TCP connection was dropped for it. */
  onMalformed?: (error: string, source: SipDestination, answered: boolean, closed: boolean) => void;
  onError?: (error: Error) => void;
}

export class SipCombinedTransport implements SipTransport {
  private lastReliable = false;

  private constructor(
    readonly udp: SipUdpTransport,
    readonly tcp: SipTcpTransport,
    private readonly options: CombinedTransportOptions,
  ) {
    udp.setMessageHandler((message, source) => this.receive(message, { ...source, transport: 'udp' }, false));
    tcp.setMessageHandler((message, source) => this.receive(message, { ...source, transport: 'tcp' }, true));
  }

  /** Binds UDP and listens on TCP on the same address and port. */
  static async open(options: CombinedTransportOptions = {}): Promise<SipCombinedTransport> {
    const host = options.host ?? '127.0.0.1';
    const attempts = (options.port ?? 0) === 0 ? 20 : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const udp = await SipUdpTransport.open({
        host,
        port: options.port ?? 0,
        maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
        ...(options.drop ? { drop: options.drop } : {}),
        onMalformed: (error, source, answered) => options.onMalformed?.(error, { ...source, transport: 'udp' }, answered, false),
        onError: (error) => options.onError?.(error),
      });
      try {
        const tcp = await SipTcpTransport.open({
          ...options.tcp,
          host,
          port: udp.address.port,
          maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
          ...(options.drop ? { drop: options.drop } : {}),
          onMalformed: (error, source, answered, closed) => options.onMalformed?.(error, source, answered, closed),
          onError: (error) => options.onError?.(error),
        });
        return new SipCombinedTransport(udp, tcp, options);
      } catch (error) {
        lastError = error;
        await udp.close();
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      }
    }
    throw lastError;
  }

  /** The shared address (UDP and TCP listen on the same host and port). */
  get address(): SipDestination {
    return this.udp.address;
  }

  /** The transport of the message sent or received last (see the file comment). */
  get reliable(): boolean {
    return this.lastReliable;
  }

  get closed(): boolean {
    return this.udp.closed;
  }

  setMessageHandler(handler: (message: SipMessage, source: SipDestination) => void): void {
    this.options.onMessage = handler;
  }

  /** Whether a message to `destination` (or this message) would go over TCP. */
  reliableFor(destination: SipDestination, message?: SipMessage): boolean {
    return this.choose(message, destination) === 'tcp';
  }

  send(message: SipMessage, destination: SipDestination): void {
    const transport = this.choose(message, destination);
    this.lastReliable = transport === 'tcp';
    if (message.kind === 'request') this.stampVia(message, transport);
    if (transport === 'tcp' && this.options.contactTransport !== false) this.stampContact(message);
    if (transport === 'tcp') this.tcp.send(message, destination);
    else this.udp.send(message, destination);
  }

  /** Closes both; idempotent. */
  async close(): Promise<void> {
    await Promise.all([this.udp.close(), this.tcp.close()]);
  }

  private receive(message: SipMessage, source: SipDestination, reliable: boolean): void {
    this.lastReliable = reliable;
    this.options.onMessage?.(message, source);
  }

  private choose(message: SipMessage | undefined, destination: SipDestination): SipTransportName {
    if (message?.kind === 'response') return topVia(message)?.transport === 'TCP' ? 'tcp' : 'udp';
    if (destination.transport) return destination.transport;
    return message ? (nextHopTransport(message) ?? 'udp') : 'udp';
  }

  private stampContact(message: SipMessage): void {
    const values = message.headers.getAll('Contact');
    const stamped = values.map((value) => withTcpContact(value, this.address));
    if (stamped.every((v) => v === undefined)) return;
    message.headers.delete('Contact');
    values.forEach((value, i) => message.headers.append('Contact', stamped[i] ?? value));
  }

  /** §18.1.1: our top Via names the transport the request really goes on. */
  private stampVia(request: SipRequest, transport: SipTransportName): void {
    const values = request.headers.getAll('Via');
    const via = values[0] === undefined ? undefined : topVia(request);
    const wanted = transport.toUpperCase();
    if (!via || via.transport === wanted) return;
    if (via.transport !== 'UDP' && via.transport !== 'TCP') return;
    const ours = this.address;
    if (sentBy(via) !== sentBy({ transport: via.transport, host: ours.host, port: ours.port, params: new Map() })) return;
    via.transport = wanted;
    request.headers.delete('Via');
    request.headers.append('Via', serializeVia(via));
    for (const rest of values.slice(1)) request.headers.append('Via', rest);
  }
}

/** Our Contact gets `;transport=tcp` when it goes out over TCP (see `contactTransport`). */
function withTcpContact(value: string, ours: SipDestination): string | undefined {
  const addr = parseNameAddr(value);
  const uri = addr?.sipUri;
  if (!addr || !uri || uri.params.has('transport')) return undefined;
  const host = uri.host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host !== ours.host.toLowerCase() || (uri.port ?? 5060) !== ours.port) return undefined;
  const q = addr.uri.indexOf('?');
  const newUri = q < 0 ? `${addr.uri};transport=tcp` : `${addr.uri.slice(0, q)};transport=tcp${addr.uri.slice(q)}`;
  return serializeNameAddr({ ...addr, uri: newUri });
}

/** The `transport` parameter of a request's next hop: its first Route, else its Request-URI. */
export function nextHopTransport(request: SipRequest): SipTransportName | undefined {
  const route = request.headers.get('Route');
  const uri = route === undefined ? request.uri : (parseNameAddr(route)?.uri ?? request.uri);
  const value = parseSipUri(uri)?.params.get('transport');
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  return lower === 'tcp' || lower === 'udp' ? lower : undefined;
}
