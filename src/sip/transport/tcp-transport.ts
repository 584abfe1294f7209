/**
 * SIP over TCP (RFC 3261 §18: §18.1.1 client, §18.2.1 server, §18.2.2 responses, §18.3
 * framing).
 *
 * One listening server plus outgoing connections, all kept in one table keyed by the remote
 * address, so a request to a peer reuses any open connection to it. A response goes back on
 * the connection its request arrived on (§18.2.2), found by the request's top-Via branch and
 * sent-by; failing that, on an open connection to the destination (the transaction layer,
 * told the transport is reliable, gives the request's source address: that connection's
 * key); failing that, on a new connection to the Via's `received` host and sent-by port.
 *
 * Each connection cuts its byte stream with SipTcpFramer (Content-Length framing). A message
 * that frames but does not parse gets its 400/413/505 on the same connection and the
 * connection stays up (the stream is still in sync); a framing error (no Content-Length, a
 * header section over `maxHeaderBytes`, a message over `maxMessageBytes`) closes the
 * connection, because a stream whose framing is lost cannot be resynchronised — a request too
 * large is first answered 513 Message Too Large (RFC 3261 §21.5.14) when its start line and
 * the headers a response copies could be read. Double-CRLF pings get a CRLF pong (RFC 5626
 * §3.5.1). Connections idle for `idleTimeoutMs` are closed.
 *
 * Connection limits: `maxConnections` bounds the table, and `maxConnectionsPerSource` the
 * inbound connections from one address (except `exempt` ones, e.g. a trusted trunk), so that
 * one host cannot take every slot and shut everyone else out. A connection over either limit is
 * closed as soon as it is accepted.
 *
 * `send` is synchronous like the UDP transport's: a new connection is opened and the message
 * queued on it. A connect failure (refused, timed out, a TLS certificate that does not verify)
 * cannot be thrown back to the sender, so it is reported through `onError`, and each request
 * queued on the connection through `onUndelivered`, for the transaction layer to end its
 * transaction with a transport error (RFC 3261 §17.1.4) rather than wait for Timer B/F.
 *
 * SIP over TLS (RFC 3261 §26.2, RFC 5630) is the same stream with `tls` given: the server
 * still accepts plain TCP sockets, so the connection limits above are applied before any
 * handshake work is spent on a refused peer, and wraps each in a server TLSSocket; outgoing
 * connections are tls.connect()s that verify the peer's certificate against `tls.ca` (the
 * system's CAs when absent) for the destination's `serverName` — the host of the URI that led
 * there (RFC 5922 §7.2), else its address. Framing, reuse (RFC 5923-style: one table, a
 * request to a peer goes on the open connection to it) and response routing are shared.
 */
import { createServer, connect, isIP, type Server, type Socket } from 'node:net';
import { checkServerIdentity, connect as connectTls, createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { InvalidStateError } from '../../errors.js';
import { topVia, type SipMessage } from '../message.js';
import { oversizedRejection, parseSipMessage, rejectionFor } from '../parse-message.js';
import { serializeSipMessage } from '../serialize-message.js';
import { SipTcpFramer } from '../tcp-framer.js';
import type { SipDestination, SipTransport } from '../transaction/transport.js';
import { sentBy } from '../header-values.js';

/** PEM certificate chain and key we present, and the CAs a peer's certificate must chain to. */
export interface SipTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CAs for verifying peers (carriers, phones we dial); default the system's (Node's bundled roots). */
  ca?: string | Buffer;
}

export interface TcpTransportOptions {
  /** SIP over TLS on this listener and its connections; plain TCP when absent. */
  tls?: SipTlsOptions;
  /** Address to listen on and to connect from; default 127.0.0.1. */
  host?: string;
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Largest message (headers and body) accepted on a connection; default 64 KiB. */
  maxMessageBytes?: number;
  /** Largest header section parsed; default 16 KiB. */
  maxHeaderBytes?: number;
  /** A connection with no traffic either way for this long is closed; default 120 s. */
  idleTimeoutMs?: number;
  /** An outgoing connection that is not up after this long is dropped; default 10 s. */
  connectTimeoutMs?: number;
  /** Most open connections, inbound and outbound; new inbound ones beyond it are refused. Default 1024. */
  maxConnections?: number;
  /** Most inbound connections from one address; default 64. */
  maxConnectionsPerSource?: number;
  /** Addresses `maxConnectionsPerSource` does not apply to. */
  exempt?: (host: string) => boolean;
  /** An inbound connection closed at once: its address has too many (`source`), or the table is full (`total`). */
  onRefused?: (source: SipDestination, limit: 'source' | 'total') => void;
  /** Bytes queued for a peer that does not read before its connection is dropped; default 1 MiB. */
  maxQueuedBytes?: number;
  onMessage?: (message: SipMessage, source: SipDestination) => void;
  /** Before parsing: true to drop a framed message unread (its source is flooding). */
  drop?: (data: Buffer, source: SipDestination) => boolean;
  /** A message that is not SIP (`answered` when a 4xx/5xx went back) or a broken stream (`closed`). */
  onMalformed?: (error: string, source: SipDestination, answered: boolean, closed: boolean) => void;
  /** Socket, connect and server errors. */
  onError?: (error: Error) => void;
  /** A request queued on an outgoing connection that failed before it was up: it never left. */
  onUndelivered?: (request: SipMessage, error: Error) => void;
}

/** Branches remembered per connection for §18.2.2 response routing. */
const MAX_BRANCHES_PER_CONNECTION = 256;

class TcpConnection {
  readonly framer: SipTcpFramer;
  /** Via keys (`branch|sent-by`) of requests that arrived here, oldest first. */
  readonly branches = new Set<string>();
  connected: boolean;
  closed = false;
  /** Requests written before the connection was up (TLS: before the handshake): undelivered if it fails. */
  readonly queued: SipMessage[] = [];

  constructor(
    readonly socket: Socket,
    readonly key: string,
    readonly remote: SipDestination,
    readonly inbound: boolean,
    limits: { maxMessageBytes: number; maxHeaderBytes: number },
  ) {
    this.framer = new SipTcpFramer(limits);
    this.connected = inbound;
  }
}

export class SipTcpTransport implements SipTransport {
  readonly reliable = true;
  /** 'tls' when opened with `tls`. */
  readonly protocol: 'tcp' | 'tls';
  private readonly secureContext: SecureContext | undefined;
  private readonly connections = new Set<TcpConnection>();
  /** The newest open connection to each remote address. */
  private readonly byAddress = new Map<string, TcpConnection>();
  /** `branch|sent-by` of requests received → the connection they came on. */
  private readonly responseRoutes = new Map<string, TcpConnection>();
  /** Open inbound connections per remote host. */
  private readonly inboundBySource = new Map<string, number>();
  private isClosed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: TcpTransportOptions,
  ) {
    this.protocol = options.tls ? 'tls' : 'tcp';
    this.secureContext = options.tls ? createSecureContext({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca ? { ca: options.tls.ca } : {}) }) : undefined;
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (error) => this.options.onError?.(error));
  }

  /** Listens and resolves once the server is bound; throws at once on an unusable certificate or key. */
  static open(options: TcpTransportOptions = {}): Promise<SipTcpTransport> {
    const server = createServer({ noDelay: true });
    let transport: SipTcpTransport;
    try {
      transport = new SipTcpTransport(server, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', exclusive: true }, () => {
        server.off('error', reject);
        resolve(transport);
      });
    });
  }

  /** The listening address, for Via sent-by and Contact. */
  get address(): SipDestination {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new InvalidStateError(`the ${this.label} transport is not listening`);
    return { host: address.address, port: address.port, transport: this.protocol };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Open connections (inbound and outbound). */
  get connectionCount(): number {
    return this.connections.size;
  }

  setMessageHandler(handler: (message: SipMessage, source: SipDestination) => void): void {
    this.options.onMessage = handler;
  }

  /**
   * Sends on the connection the response's request came from (§18.2.2), else on an open
   * connection to `destination`, else on a new one (for a response: to the Via's received
   * host and sent-by port, §18.2.2). Throws when closed, over `maxConnections`, or when the
   * peer has stopped reading.
   */
  send(message: SipMessage, destination: SipDestination): void {
    if (this.isClosed) throw new InvalidStateError(`the ${this.label} transport is closed`);
    const data = serializeSipMessage(message);
    let connection = message.kind === 'response' ? this.routeOf(message) : undefined;
    connection ??= this.byAddress.get(addressKey(destination));
    if (!connection && message.kind === 'response') {
      // §18.2.2: the request's connection is gone; open one to `received` (or the sent-by
      // host) at the sent-by port, where the client listens.
      const via = topVia(message);
      const listener = via ? { host: via.received ?? via.host, port: via.port ?? 5060 } : destination;
      connection = this.byAddress.get(addressKey(listener)) ?? this.dial(listener);
    }
    connection ??= this.dial(destination);
    const { socket } = connection;
    if (socket.writableLength + data.length > (this.options.maxQueuedBytes ?? 1024 * 1024)) {
      this.drop(connection, new Error(`${this.label} peer ${connection.key} is not reading; connection dropped`));
      throw new InvalidStateError(`${this.label} peer ${connection.key} is not reading`);
    }
    if (!connection.connected && message.kind === 'request') connection.queued.push(message);
    socket.write(data);
  }

  /** Closes the server and every connection; idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.isClosed = true;
      for (const connection of [...this.connections]) this.drop(connection);
      this.closing = new Promise((resolve) => this.server.close(() => resolve()));
    }
    return this.closing;
  }

  private routeOf(message: SipMessage): TcpConnection | undefined {
    const key = viaKey(message);
    const connection = key === undefined ? undefined : this.responseRoutes.get(key);
    return connection && !connection.closed ? connection : undefined;
  }

  private get label(): string {
    return this.protocol.toUpperCase();
  }

  private accept(raw: Socket): void {
    const remote = { host: plainHost(raw.remoteAddress ?? ''), port: raw.remotePort ?? 0, transport: this.protocol };
    if (this.isClosed || remote.port === 0) {
      raw.destroy();
      return;
    }
    const fromSource = this.inboundBySource.get(remote.host) ?? 0;
    const limit =
      this.connections.size >= (this.options.maxConnections ?? 1024)
        ? 'total'
        : fromSource >= (this.options.maxConnectionsPerSource ?? 64) && !this.options.exempt?.(remote.host)
          ? 'source'
          : undefined;
    if (limit) {
      // Reset rather than a polite FIN: nothing is owed to it, and no TIME_WAIT is kept here.
      // On TLS this is still the plain socket: a refused peer costs no handshake.
      raw.resetAndDestroy();
      this.options.onRefused?.(remote, limit);
      return;
    }
    this.inboundBySource.set(remote.host, fromSource + 1);
    if (!this.secureContext) {
      this.track(new TcpConnection(raw, addressKey(remote), remote, true, this.framerLimits));
      return;
    }
    const socket = new TLSSocket(raw, { isServer: true, secureContext: this.secureContext });
    const connection = new TcpConnection(socket, addressKey(remote), remote, true, this.framerLimits);
    // A handshake that fails (a scanner, plain SIP sent to the TLS port) is hostile input, not a
    // fault of ours: told as malformed (the gateway throttles those), not as an error.
    let secured = false;
    socket.once('secure', () => (secured = true));
    socket.prependOnceListener('error', (error) => {
      if (secured || connection.closed || this.isClosed) return;
      this.options.onMalformed?.(`TLS handshake failed: ${error.message}`, remote, false, true);
      connection.closed = true;
      socket.destroy();
      this.forget(connection);
    });
    this.track(connection);
  }

  private dial(destination: SipDestination): TcpConnection {
    if (this.connections.size >= (this.options.maxConnections ?? 1024)) {
      throw new InvalidStateError(`too many ${this.label} connections`);
    }
    const host = destination.host.replace(/^\[(.*)\]$/, '$1');
    const localAddress = this.localAddressFor(host);
    let socket: Socket;
    if (this.secureContext) {
      // The certificate is checked for the URI's host (RFC 5922 §7.2); SNI carries it only
      // when it is a name (RFC 6066 §3 forbids addresses there).
      const name = (destination.serverName ?? host).replace(/^\[(.*)\]$/, '$1');
      socket = connectTls({
        host,
        port: destination.port,
        ...(localAddress ? { localAddress } : {}),
        secureContext: this.secureContext,
        ...(isIP(name) === 0 ? { servername: name } : {}),
        checkServerIdentity: (_, cert) => checkServerIdentity(name, cert),
      });
      socket.setNoDelay(true);
    } else {
      socket = connect({ host, port: destination.port, localAddress, noDelay: true });
    }
    const remote = { host, port: destination.port, transport: this.protocol };
    const connection = new TcpConnection(socket, addressKey(remote), remote, false, this.framerLimits);
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      if (!connection.connected) this.drop(connection, new Error(`${this.label} connect to ${connection.key} timed out`));
    }, timeout);
    timer.unref();
    socket.once(this.secureContext ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      connection.connected = true;
      connection.queued.length = 0;
    });
    socket.once('close', () => clearTimeout(timer));
    this.track(connection);
    return connection;
  }

  /** Connect from the listening address when it is a concrete one of the same family. */
  private localAddressFor(host: string): string | undefined {
    const local = this.address.host;
    if (local === '0.0.0.0' || local === '::') return undefined;
    return local.includes(':') === host.includes(':') ? local : undefined;
  }

  private get framerLimits(): { maxMessageBytes: number; maxHeaderBytes: number } {
    return { maxMessageBytes: this.options.maxMessageBytes ?? 64 * 1024, maxHeaderBytes: this.maxHeaderBytes };
  }

  private get maxHeaderBytes(): number {
    return this.options.maxHeaderBytes ?? 16 * 1024;
  }

  private track(connection: TcpConnection): void {
    const { socket } = connection;
    this.connections.add(connection);
    this.byAddress.set(connection.key, connection);
    socket.setTimeout(this.options.idleTimeoutMs ?? 120_000, () => this.drop(connection));
    socket.on('data', (chunk: Buffer) => this.receive(connection, chunk));
    socket.on('error', (error) => this.drop(connection, error));
    socket.on('close', () => this.forget(connection));
  }

  private receive(connection: TcpConnection, chunk: Buffer): void {
    if (connection.closed || this.isClosed) return;
    for (const output of connection.framer.push(chunk)) {
      if (connection.closed) return;
      if (output.type === 'keep-alive') {
        connection.socket.write('\r\n');
      } else if (output.type === 'error') {
        const rejection = output.tooLarge && oversizedRejection(output.tooLarge.head, output.reason, this.maxHeaderBytes);
        this.options.onMalformed?.(output.reason, connection.remote, rejection !== undefined, true);
        if (rejection) this.closeAfter(connection, serializeSipMessage(rejection));
        else this.drop(connection);
        return;
      } else {
        this.deliver(connection, output.data);
      }
    }
  }

  private deliver(connection: TcpConnection, data: Buffer): void {
    if (this.options.drop?.(data, connection.remote)) return;
    const result = parseSipMessage(data, { framing: 'stream', maxHeaderBytes: this.maxHeaderBytes });
    if (!result.ok) {
      const rejection = rejectionFor(result);
      if (rejection) connection.socket.write(serializeSipMessage(rejection));
      this.options.onMalformed?.(result.error, connection.remote, rejection !== undefined, false);
      return;
    }
    const { message } = result;
    if (message.kind === 'request') this.remember(connection, message);
    try {
      this.options.onMessage?.(message, { ...connection.remote });
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private remember(connection: TcpConnection, message: SipMessage): void {
    const key = viaKey(message);
    if (key === undefined) return;
    connection.branches.delete(key);
    connection.branches.add(key);
    this.responseRoutes.set(key, connection);
    if (connection.branches.size > MAX_BRANCHES_PER_CONNECTION) {
      const oldest = connection.branches.values().next().value as string;
      connection.branches.delete(oldest);
      if (this.responseRoutes.get(oldest) === connection) this.responseRoutes.delete(oldest);
    }
  }

  private drop(connection: TcpConnection, error?: Error): void {
    if (error && !connection.closed && !this.isClosed) this.options.onError?.(error);
    if (error && !connection.connected && !this.isClosed) this.undelivered(connection, error);
    connection.closed = true;
    connection.socket.destroy();
    this.forget(connection);
  }

  /** Sends a last message, then closes (the FIN follows it); the connection is forgotten at once. */
  private closeAfter(connection: TcpConnection, data: Buffer): void {
    const { socket } = connection;
    this.forget(connection);
    socket.end(data);
    // A peer that never reads must not keep the socket: it is gone after a second in any case.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Tells the requests queued on a connection that never came up (once: the queue is emptied). */
  private undelivered(connection: TcpConnection, error: Error): void {
    const requests = connection.queued.splice(0);
    for (const request of requests) this.options.onUndelivered?.(request, error);
  }

  private forget(connection: TcpConnection): void {
    if (!connection.connected && !this.isClosed) this.undelivered(connection, new Error(`${this.label} connection to ${connection.key} closed before it was up`));
    if (this.connections.delete(connection) && connection.inbound) {
      const left = (this.inboundBySource.get(connection.remote.host) ?? 1) - 1;
      if (left > 0) this.inboundBySource.set(connection.remote.host, left);
      else this.inboundBySource.delete(connection.remote.host);
    }
    connection.closed = true;
    if (this.byAddress.get(connection.key) === connection) this.byAddress.delete(connection.key);
    for (const key of connection.branches) {
      if (this.responseRoutes.get(key) === connection) this.responseRoutes.delete(key);
    }
    connection.branches.clear();
  }
}

/** `host:port`, IPv6 in brackets, the key of the connection table. */
export function addressKey({ host, port }: SipDestination): string {
  const plain = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return `${plain.includes(':') ? `[${plain}]` : plain}:${port}`;
}

/** A socket's remote address without the IPv4-mapped `::ffff:` prefix. */
export function plainHost(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function viaKey(message: SipMessage): string | undefined {
  const via = topVia(message);
  return via?.branch === undefined ? undefined : `${via.branch}|${sentBy(via)}`;
}
