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
 * With `tls`, SIP over TLS (RFC 3261 §26.2, RFC 5630) listens too, on its own port (5061 by
 * default: §19.1.2), and a request goes over it when its destination says `tls` or its next hop
 * is a `sips:` URI or has `;transport=tls`; a response when its top Via says TLS. Our Via then
 * says `SIP/2.0/TLS` with the TLS port, and our Contact gets that port and `;transport=tls`,
 * so the peer's requests in the dialog come back over TLS. The certificate of a peer we
 * connect to is checked for the next hop URI's host unless the destination names another.
 *
 * SIP over WebSocket (RFC 7118, ws-transport.ts) rides on the API's HTTP server: `ws` takes the
 * upgrade requests it is handed (`acceptWebSocket`). A response goes over it when its top Via
 * says WS or WSS, a request when its destination or next hop says `ws`/`wss` (a registered
 * browser's target, its Contact inside a dialog). Our Via then says `SIP/2.0/WS` (WSS) and our
 * Contact gets `;transport=ws` (wss), so the client keeps the dialog on its connection.
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
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { serializeVia } from '../header-values.js';
import { topVia, type SipMessage, type SipRequest } from '../message.js';
import { parseNameAddr, serializeNameAddr } from '../header-values.js';
import { parseSipUri, serializeSipUri } from '../sip-uri.js';
import { InvalidStateError } from '../../errors.js';
import type { SipDestination, SipTransport } from '../transaction/transport.js';
import { SipUdpTransport } from '../udp-transport.js';
import { SipTcpTransport, type SipTlsOptions, type TcpTransportOptions } from './tcp-transport.js';
import type { SipTraceListener } from '../trace/sip-trace.js';
import { SipWsTransport, type WsTransportOptions } from './ws-transport.js';

export type SipTransportName = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface CombinedTransportOptions {
  /** Address to bind both on; default 127.0.0.1. */
  host?: string;
  /** Port for both; default 0: a free port that is free for both UDP and TCP. */
  port?: number;
  maxHeaderBytes?: number;
  /** TCP settings (message size, idle timeout, connection limits). */
  tcp?: Omit<TcpTransportOptions, 'host' | 'port' | 'onMessage' | 'onMalformed' | 'onError' | 'maxHeaderBytes' | 'drop' | 'tls' | 'onUndelivered'>;
  /** SIP over TLS on `port` (0: any free port) with the TCP settings above; off when absent. */
  tls?: SipTlsOptions & { port: number };
  /** SIP over WebSocket settings (its connections come from the HTTP server: acceptWebSocket). */
  ws?: Pick<WsTransportOptions, 'maxConnections' | 'maxMessageBytes' | 'pingIntervalMs' | 'trustedProxy'>;
  /**
   * The address peers know us by (Via and Contact name it, not the bound one, behind NAT or a
   * 0.0.0.0 bind), for recognising our own Via and Contact; default the bound host.
   */
  publicHost?: string;
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
  /** A request a TCP or TLS connection could not deliver (it failed before it was up). */
  onUndelivered?: (request: SipMessage, error: Error) => void;
  /** Every message received (before it is handled) and sent (as it goes on the wire): the SIP trace. */
  onTrace?: SipTraceListener;
}

export class SipCombinedTransport implements SipTransport {
  private lastReliable = false;

  private constructor(
    readonly udp: SipUdpTransport,
    readonly tcp: SipTcpTransport,
    /** SIP over TLS; absent unless opened with `tls`. */
    readonly tls: SipTcpTransport | undefined,
    /** SIP over WebSocket: the connections the HTTP server hands over (acceptWebSocket). */
    readonly ws: SipWsTransport,
    private readonly options: CombinedTransportOptions,
  ) {
    udp.setMessageHandler((message, source) => this.receive(message, { ...source, transport: 'udp' }, false));
    tcp.setMessageHandler((message, source) => this.receive(message, { ...source, transport: 'tcp' }, true));
    tls?.setMessageHandler((message, source) => this.receive(message, { ...source, transport: 'tls' }, true));
    ws.setMessageHandler((message, source) => this.receive(message, source, true));
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
          ...streamOptions(options),
        });
        let tls: SipTcpTransport | undefined;
        try {
          tls = options.tls ? await SipTcpTransport.open({ ...options.tcp, ...streamOptions(options), host, port: options.tls.port, tls: options.tls }) : undefined;
        } catch (error) {
          await tcp.close();
          throw error;
        }
        const stream = streamOptions(options);
        const ws = new SipWsTransport({ ...options.ws, maxHeaderBytes: stream.maxHeaderBytes, ...(stream.drop ? { drop: stream.drop } : {}), onMalformed: stream.onMalformed, onError: stream.onError });
        return new SipCombinedTransport(udp, tcp, tls, ws, options);
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

  /** The TLS listener's address; undefined without TLS. */
  get tlsAddress(): SipDestination | undefined {
    return this.tls?.address;
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

  setUndeliveredHandler(handler: (request: SipMessage, error: Error) => void): void {
    this.options.onUndelivered = handler;
  }

  /** Whether a message to `destination` (or this message) would go over TCP or TLS. */
  reliableFor(destination: SipDestination, message?: SipMessage): boolean {
    return this.choose(message, destination) !== 'udp';
  }

  /** Throws for TLS when it is not configured (a transport error for the transaction, §17.1.4). */
  send(message: SipMessage, destination: SipDestination): void {
    const transport = this.choose(message, destination);
    if (transport === 'tls' && !this.tls) throw new InvalidStateError('SIP over TLS is not configured (CONCLAVE_SIP_TLS_CERT, CONCLAVE_SIP_TLS_KEY)');
    this.lastReliable = transport !== 'udp';
    if (message.kind === 'request') this.stampVia(message, transport);
    if (transport !== 'udp' && this.options.contactTransport !== false) this.stampContact(message, transport);
    const ends = transport === 'ws' || transport === 'wss' ? this.ws.endsOf(message, destination) : undefined;
    this.options.onTrace?.({ direction: 'out', transport, local: ends?.local ?? this.ours(transport), remote: ends?.remote ?? destination, message });
    if (transport === 'ws' || transport === 'wss') this.ws.send(message, destination);
    else if (transport === 'tls' && this.tls) this.tls.send(message, withServerName(message, destination));
    else if (transport === 'tcp') this.tcp.send(message, destination);
    else this.udp.send(message, destination);
  }

  /** Takes an HTTP upgrade request of the SIP WebSocket path (ws-transport.ts `accept`). */
  acceptWebSocket(request: IncomingMessage, socket: Duplex, head: Buffer, secure = false): void {
    this.ws.accept(request, socket, head, secure);
  }

  /** Whether a live WebSocket connection reaches `destination` (a registered browser's flow). */
  reachesWebSocket(destination: SipDestination): boolean {
    return this.ws.reaches(destination);
  }

  /** Closes every listener; idempotent. */
  async close(): Promise<void> {
    await Promise.all([this.udp.close(), this.tcp.close(), this.tls?.close(), this.ws.close()]);
  }

  /** Our Contact on a stream names the transport (and, for TLS, its port): see `contactTransport`. */
  private withTransportContact(value: string, transport: Exclude<SipTransportName, 'udp'>): string | undefined {
    const addr = parseNameAddr(value);
    const uri = addr?.sipUri;
    if (!addr || !uri || uri.params.has('transport') || uri.scheme === 'sips' || !this.isOurs(uri.host, uri.port)) return undefined;
    const { port } = this.ours(transport);
    uri.port = port;
    uri.params.set('transport', transport);
    return serializeNameAddr({ ...addr, uri: serializeSipUri(uri) });
  }

  private receive(message: SipMessage, source: SipDestination, reliable: boolean): void {
    this.lastReliable = reliable;
    const transport = source.transport ?? 'udp';
    const local = transport === 'ws' || transport === 'wss' ? this.ws.endsOf(undefined, source)?.local : undefined;
    this.options.onTrace?.({ direction: 'in', transport, local: local ?? this.ours(transport), remote: { host: source.host, port: source.port }, message });
    this.options.onMessage?.(message, source);
  }

  private choose(message: SipMessage | undefined, destination: SipDestination): SipTransportName {
    if (message?.kind === 'response') {
      const via = topVia(message)?.transport;
      return via === 'TLS' ? 'tls' : via === 'TCP' ? 'tcp' : via === 'WS' ? 'ws' : via === 'WSS' ? 'wss' : 'udp';
    }
    if (destination.transport) return destination.transport;
    return message ? (nextHopTransport(message) ?? 'udp') : 'udp';
  }

  /** Our address as peers see it (the public host) on `transport`'s port. */
  private ours(transport: SipTransportName): SipDestination {
    const port = transport === 'tls' && this.tls ? this.tls.address.port : this.address.port;
    return { host: this.options.publicHost ?? this.address.host, port };
  }

  /** Whether host:port is us (the public or the bound host, the UDP/TCP port). */
  private isOurs(host: string, port: number | undefined): boolean {
    const plain = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const hosts = [this.address.host, this.options.publicHost ?? this.address.host].map((h) => h.toLowerCase());
    return hosts.includes(plain) && (port ?? 5060) === this.address.port;
  }

  private stampContact(message: SipMessage, transport: Exclude<SipTransportName, 'udp'>): void {
    const values = message.headers.getAll('Contact');
    const stamped = values.map((value) => this.withTransportContact(value, transport));
    if (stamped.every((v) => v === undefined)) return;
    message.headers.delete('Contact');
    values.forEach((value, i) => message.headers.append('Contact', stamped[i] ?? value));
  }

  /** §18.1.1: our top Via names the transport the request really goes on (and, for TLS, its port). */
  private stampVia(request: SipRequest, transport: SipTransportName): void {
    const values = request.headers.getAll('Via');
    const via = values[0] === undefined ? undefined : topVia(request);
    const wanted = transport.toUpperCase();
    if (!via || via.transport === wanted) return;
    if (via.transport !== 'UDP' && via.transport !== 'TCP' && via.transport !== 'TLS' && via.transport !== 'WS' && via.transport !== 'WSS') return;
    const tlsPort = this.tls?.address.port;
    const ours = this.isOurs(via.host, via.port) || (via.transport === 'TLS' && tlsPort !== undefined && this.isOurs(via.host, this.address.port) && via.port === tlsPort);
    if (!ours) return;
    via.transport = wanted;
    via.port = this.ours(transport).port;
    request.headers.delete('Via');
    request.headers.append('Via', serializeVia(via));
    for (const rest of values.slice(1)) request.headers.append('Via', rest);
  }
}

/** What the TCP and TLS listeners share of the options. */
function streamOptions(options: CombinedTransportOptions): Pick<TcpTransportOptions, 'maxHeaderBytes' | 'drop' | 'onMalformed' | 'onError' | 'onUndelivered'> {
  return {
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    ...(options.drop ? { drop: options.drop } : {}),
    onMalformed: (error, source, answered, closed) => options.onMalformed?.(error, source, answered, closed),
    onError: (error) => options.onError?.(error),
    onUndelivered: (request, error) => options.onUndelivered?.(request, error),
  };
}

/**
 * A destination for TLS with the name to check the certificate for: the destination's own,
 * else the next hop URI's host (RFC 5922 §7.2) — for a request; a response's connection is
 * the request's, or a new one to an address, checked against that address.
 */
function withServerName(message: SipMessage, destination: SipDestination): SipDestination {
  if (destination.serverName !== undefined || message.kind !== 'request') return destination;
  const host = parseSipUri(nextHopUri(message))?.host;
  return host === undefined ? destination : { ...destination, serverName: host };
}

/** The URI a request goes to next: its first Route, else its Request-URI. */
function nextHopUri(request: SipRequest): string {
  const route = request.headers.get('Route');
  return route === undefined ? request.uri : (parseNameAddr(route)?.uri ?? request.uri);
}

/**
 * The transport of a request's next hop (its first Route, else its Request-URI): `tls` for a
 * `sips:` URI (RFC 3261 §26.2.2: TLS whatever its `transport`) or `;transport=tls`, `wss` for
 * `;transport=wss` or a `sips:` URI with `;transport=ws` (RFC 7118 §5.1), else its `transport`
 * parameter.
 */
export function nextHopTransport(request: SipRequest): SipTransportName | undefined {
  const uri = parseSipUri(nextHopUri(request));
  const value = uri?.params.get('transport');
  const lower = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (lower === 'wss' || (uri?.scheme === 'sips' && lower === 'ws')) return 'wss';
  if (uri?.scheme === 'sips' || lower === 'tls') return 'tls';
  return lower === 'tcp' || lower === 'udp' || lower === 'ws' ? lower : undefined;
}
