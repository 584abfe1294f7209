/**
 * SIP over WebSocket (RFC 7118), the transport of WebRTC SIP clients (JsSIP, SIP.js) in a
 * browser, which can open no UDP or TCP socket of its own.
 *
 * There is no listener here: the API's HTTP server hands over each upgrade request of the SIP
 * path (`accept`), so it is served on the API port (`ws://`; `wss://` is the TLS front's, or the
 * HTTP server's own TLS). The handshake must ask for the `sip` subprotocol (§4.1); one that does
 * not is refused with 400 before any WebSocket exists. After it:
 * - one SIP message per frame, text or binary (§5.1: a message never spans frames), parsed as a
 *   datagram is (Content-Length optional); a frame of only CRLFs is a keep-alive and ignored;
 * - the client's Via says `SIP/2.0/WS` (or WSS) with a sent-by such as `xyz.invalid` nobody can
 *   reach (§5.2): the transaction layer's `received`/`rport` stamping records the connection's
 *   address, and every response goes back on the connection its request came on (found by the
 *   request's top Via branch, as over TCP);
 * - requests to the client go on its connection too (§5.4: its Contact, `sip:abc@xyz.invalid;
 *   transport=ws`, names no reachable host). A connection is found by its remote address (what a
 *   registration's target says: sip-registrar.ts `targetOf`), or by an alias — a host its
 *   client wrote in a Contact or Via sent-by on it (the `.invalid` name), which is where the
 *   requests inside a dialog with that client go. This is the flow table: a connection that
 *   closes takes its flows with it, and sending to one throws (a transport error for the
 *   transaction, RFC 3261 §17.1.4). Nothing else ends with it: a call over it ends by its own
 *   timers or BYE, like one whose phone went silent.
 *
 * Behind a front (a TLS terminator giving `wss://`, a load balancer) every connection comes from
 * the front's address. When the front is trusted (`trustedProxy`: CONCLAVE_SIP_TRUSTED), its
 * `X-Forwarded-For` (the last entry: the address that connected to it) is the client's source —
 * what `received`, the per-source budgets and the logs see — and its `X-Forwarded-Proto: https`
 * makes the flow WSS; from anyone else both headers are ignored (a client could write them).
 * The source port stays the connection's own, so each flow keeps a distinct address.
 *
 * The server pings every connection every `pingIntervalMs` and drops one that did not answer
 * the previous ping, so a browser that vanished (a closed laptop) stops being reachable.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { InvalidStateError } from '../../errors.js';
import { parseNameAddr } from '../header-values.js';
import { topVia, type SipMessage } from '../message.js';
import { parseSipMessage, rejectionFor } from '../parse-message.js';
import { serializeSipMessage } from '../serialize-message.js';
import type { SipDestination, SipTransport } from '../transaction/transport.js';
import { addressKey, plainHost } from './tcp-transport.js';

/** RFC 7118 §4.1: the subprotocol a SIP WebSocket client asks for. */
export const SIP_WEBSOCKET_PROTOCOL = 'sip';

export interface WsTransportOptions {
  /** Largest message (frame) taken, in bytes; default 64 KiB. */
  maxMessageBytes?: number;
  maxHeaderBytes?: number;
  /** Most connections at once; default 1024. A handshake over it is refused 503. */
  maxConnections?: number;
  /** Ping period; a connection that did not answer the previous ping is dropped. Default 20 s. */
  pingIntervalMs?: number;
  /** Whether a peer is a front whose X-Forwarded-For and X-Forwarded-Proto are believed; none by default. */
  trustedProxy?: (host: string) => boolean;
  onMessage?: (message: SipMessage, source: SipDestination) => void;
  /** Before parsing: true to drop a message unread (its source is flooding). */
  drop?: (data: Buffer, source: SipDestination) => boolean;
  /** Malformed input; `answered` when a 4xx went back. */
  onMalformed?: (error: string, source: SipDestination, answered: boolean, closed: boolean) => void;
  onError?: (error: Error) => void;
}

/** One client's connection: its address, the response routes and aliases it holds. */
interface WsFlow {
  socket: WebSocket;
  remote: SipDestination & { transport: 'ws' | 'wss' };
  /** Our end: the HTTP server's address and port it came to. */
  local: SipDestination;
  key: string;
  /** Top-Via branches of the requests it sent (their responses go back on it). */
  branches: Set<string>;
  /** Hosts its client calls itself in Contact and Via (lower case). */
  aliases: Set<string>;
  alive: boolean;
  closed: boolean;
}

/** Per connection, the most recent request branches remembered for response routing. */
const MAX_BRANCHES_PER_FLOW = 256;
/** Per connection, the most aliases remembered (a client has one or two). */
const MAX_ALIASES_PER_FLOW = 8;

export class SipWsTransport implements SipTransport {
  readonly reliable = true;
  private readonly server: WebSocketServer;
  private readonly flows = new Set<WsFlow>();
  private readonly byAddress = new Map<string, WsFlow>();
  private readonly byAlias = new Map<string, WsFlow>();
  private readonly responseRoutes = new Map<string, WsFlow>();
  private readonly pinger: NodeJS.Timeout;
  private isClosed = false;

  constructor(private readonly options: WsTransportOptions = {}) {
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes ?? 64 * 1024,
      // Only ever called with `sip` among the offers (accept checks first).
      handleProtocols: () => SIP_WEBSOCKET_PROTOCOL,
      perMessageDeflate: false,
    });
    this.pinger = setInterval(() => this.ping(), options.pingIntervalMs ?? 20_000);
    this.pinger.unref();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get connectionCount(): number {
    return this.flows.size;
  }

  setMessageHandler(handler: (message: SipMessage, source: SipDestination) => void): void {
    this.options.onMessage = handler;
  }

  /**
   * Takes an HTTP upgrade request of the SIP path. Refused (an HTTP error, then the socket
   * closed) without the `sip` subprotocol, when closed, or over the connection limit.
   * `secure`: the request came over TLS here (the HTTP server's own), so the flow is WSS.
   */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer, secure = false): void {
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim().toLowerCase());
    if (!offered.includes(SIP_WEBSOCKET_PROTOCOL)) {
      refuse(socket, 400, 'Bad Request', 'SIP over WebSocket needs the "sip" subprotocol (RFC 7118 §4.1)');
      return;
    }
    if (this.isClosed || this.flows.size >= (this.options.maxConnections ?? 1024)) {
      refuse(socket, 503, 'Service Unavailable', 'no more SIP WebSocket connections');
      return;
    }
    const peer = plainHost(request.socket.remoteAddress ?? '');
    const front = this.options.trustedProxy?.(peer) === true;
    const host = (front ? forwardedFor(request) : undefined) ?? peer;
    const port = request.socket.remotePort ?? 0;
    const local = { host: plainHost(request.socket.localAddress ?? ''), port: request.socket.localPort ?? 0 };
    secure ||= front && headerValue(request, 'x-forwarded-proto')?.toLowerCase() === 'https';
    this.server.handleUpgrade(request, socket, head, (ws) => {
      if (this.isClosed) {
        ws.terminate();
        return;
      }
      const remote = { host, port, transport: secure ? ('wss' as const) : ('ws' as const) };
      const flow: WsFlow = { socket: ws, remote, local, key: addressKey(remote), branches: new Set(), aliases: new Set(), alive: true, closed: false };
      this.flows.add(flow);
      this.byAddress.set(flow.key, flow);
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.receive(flow, toBuffer(data)));
      ws.on('pong', () => (flow.alive = true));
      ws.on('error', (error) => this.options.onError?.(error));
      ws.on('close', () => this.forget(flow));
    });
  }

  /** Whether a live connection reaches `destination` (by its address or an alias of its client). */
  reaches(destination: SipDestination): boolean {
    return this.flowFor(destination) !== undefined;
  }

  /** The two ends of the connection `message` to (or from) `peer` goes on, for the SIP trace; undefined without one. */
  endsOf(message: SipMessage | undefined, peer: SipDestination): { local: SipDestination; remote: SipDestination } | undefined {
    const flow = (message?.kind === 'response' ? this.routeOf(message) : undefined) ?? this.flowFor(peer);
    return flow ? { local: { ...flow.local }, remote: { host: flow.remote.host, port: flow.remote.port } } : undefined;
  }

  /**
   * Sends on the connection a response's request came on, else on the connection of
   * `destination` (its address, else an alias). Throws when there is none: a WebSocket client
   * cannot be connected to (§5.4), so its flow gone means it is unreachable.
   */
  send(message: SipMessage, destination: SipDestination): void {
    if (this.isClosed) throw new InvalidStateError('the SIP WebSocket transport is closed');
    const flow = (message.kind === 'response' ? this.routeOf(message) : undefined) ?? this.flowFor(destination);
    if (!flow) throw new InvalidStateError(`no WebSocket connection reaches ${addressKey(destination)}: the client's connection is gone`);
    flow.socket.send(serializeSipMessage(message).toString('utf8'));
  }

  /** Closes every connection; idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.pinger);
    for (const flow of [...this.flows]) {
      flow.socket.close(1001, 'server shutting down');
      // A client that never answers the close must not hold the shutdown.
      setTimeout(() => flow.socket.terminate(), 1000).unref();
      this.forget(flow);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private flowFor(destination: SipDestination): WsFlow | undefined {
    const direct = this.byAddress.get(addressKey(destination));
    if (direct && !direct.closed) return direct;
    const alias = this.byAlias.get(destination.host.toLowerCase());
    return alias && !alias.closed ? alias : undefined;
  }

  private routeOf(message: SipMessage): WsFlow | undefined {
    const key = branchKey(message);
    const flow = key === undefined ? undefined : this.responseRoutes.get(key);
    return flow && !flow.closed ? flow : undefined;
  }

  private receive(flow: WsFlow, data: Buffer): void {
    if (flow.closed || this.isClosed) return;
    flow.alive = true;
    if (data.every((byte) => byte === 0x0d || byte === 0x0a)) return;
    if (this.options.drop?.(data, flow.remote)) return;
    const result = parseSipMessage(data, { framing: 'datagram', maxHeaderBytes: this.options.maxHeaderBytes ?? 16 * 1024 });
    if (!result.ok) {
      const rejection = rejectionFor(result);
      if (rejection) flow.socket.send(serializeSipMessage(rejection).toString('utf8'));
      this.options.onMalformed?.(result.error, flow.remote, rejection !== undefined, false);
      return;
    }
    const { message } = result;
    this.learn(flow, message);
    try {
      this.options.onMessage?.(message, { ...flow.remote });
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Remembers the request's branch (for its responses) and the client's names for itself. */
  private learn(flow: WsFlow, message: SipMessage): void {
    if (message.kind !== 'request') return;
    const key = branchKey(message);
    if (key !== undefined) {
      flow.branches.delete(key);
      flow.branches.add(key);
      this.responseRoutes.set(key, flow);
      if (flow.branches.size > MAX_BRANCHES_PER_FLOW) {
        const oldest = flow.branches.values().next().value as string;
        flow.branches.delete(oldest);
        if (this.responseRoutes.get(oldest) === flow) this.responseRoutes.delete(oldest);
      }
    }
    const hosts = [topVia(message)?.host, ...message.headers.getAll('Contact').map((value) => parseNameAddr(value)?.sipUri?.host)];
    for (const host of hosts) {
      // Only names: an address could be another client's, and is reached by byAddress anyway.
      if (host === undefined || !/[a-z]/i.test(host) || host.includes(':')) continue;
      const alias = host.toLowerCase();
      if (flow.aliases.has(alias) || flow.aliases.size >= MAX_ALIASES_PER_FLOW) continue;
      // A name another live connection holds is not taken over (the first client keeps it).
      const holder = this.byAlias.get(alias);
      if (holder && !holder.closed) continue;
      flow.aliases.add(alias);
      this.byAlias.set(alias, flow);
    }
  }

  private ping(): void {
    for (const flow of this.flows) {
      if (!flow.alive) {
        flow.socket.terminate();
        this.forget(flow);
        continue;
      }
      flow.alive = false;
      flow.socket.ping();
    }
  }

  private forget(flow: WsFlow): void {
    flow.closed = true;
    this.flows.delete(flow);
    if (this.byAddress.get(flow.key) === flow) this.byAddress.delete(flow.key);
    for (const alias of flow.aliases) if (this.byAlias.get(alias) === flow) this.byAlias.delete(alias);
    for (const key of flow.branches) if (this.responseRoutes.get(key) === flow) this.responseRoutes.delete(key);
    flow.aliases.clear();
    flow.branches.clear();
  }
}

/** An HTTP error response on the raw upgrade socket, then the socket closed. */
function refuse(socket: Duplex, status: number, reason: string, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

/** The last address of X-Forwarded-For: the one that connected to the front. */
function forwardedFor(request: IncomingMessage): string | undefined {
  const last = headerValue(request, 'x-forwarded-for')?.split(',').at(-1)?.trim();
  if (last === undefined) return undefined;
  const plain = plainHost(last.replace(/^\[(.*)\]$/, '$1'));
  return isIP(plain) === 0 ? undefined : plain;
}

function branchKey(message: SipMessage): string | undefined {
  const via = topVia(message);
  return via?.branch === undefined ? undefined : `${via.branch}|${via.host.toLowerCase()}:${via.port ?? ''}`;
}
