/**
 * SIP over UDP (RFC 3261 §18.1.1 client, §18.2.1 server; §18.3 one message per datagram).
 *
 * One socket sends and receives, so responses leave from the port requests arrive on (what
 * symmetric-response NATs and RFC 3581 rport expect). Each datagram is parsed on arrival —
 * unless `drop` says, from its first bytes and its source, that it would be dropped anyway (a
 * flooding source: see RequestAdmission.screen); a malformed request that can still be
 * answered gets its 400/413/505/513 here (§8.2, §16.3, §21.5.14), anything else malformed is
 * dropped and reported. Bare CRLF keep-alives are ignored.
 */
import { createSocket, type Socket } from 'node:dgram';
import { InvalidStateError } from '../errors.js';
import type { SipMessage } from './message.js';
import { parseSipMessage, rejectionFor } from './parse-message.js';
import { serializeSipMessage } from './serialize-message.js';
import type { SipDestination, SipTransport } from './transaction/transport.js';

export interface UdpTransportOptions {
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port to bind; default 0 (any free port). */
  port?: number;
  /** Largest header section parsed, in bytes (default 16 KiB; a datagram is at most 64 KiB). */
  maxHeaderBytes?: number;
  /**
   * The socket's receive buffer (SO_RCVBUF), default 4 MiB, capped by the kernel at
   * net.core.rmem_max. The usual 208 KiB holds some 150 INVITEs — 15 ms of a 10,000/s flood —
   * so any pause of the event loop (a garbage collection, a burst arriving at once) makes the
   * kernel drop datagrams at random, legitimate ones among them; a few MiB ride out the pauses
   * while flooding sources are dropped cheaply by `drop`.
   */
  receiveBufferBytes?: number;
  onMessage?: (message: SipMessage, source: SipDestination) => void;
  /** Before parsing: true to drop the datagram unread (its source is flooding). */
  drop?: (data: Buffer, source: SipDestination) => boolean;
  /** A datagram that is not a SIP message; `answered` when a 4xx/5xx went back. */
  onMalformed?: (error: string, source: SipDestination, answered: boolean) => void;
  /** Socket or send errors (ICMP unreachable is invisible on UDP: the transaction times out). */
  onError?: (error: Error) => void;
}

export class SipUdpTransport implements SipTransport {
  readonly reliable = false;
  private isClosed = false;
  private closing: Promise<void> | undefined;
  /** Datagrams handed to the socket whose send has not completed. */
  private inFlight = 0;
  private flushed: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly options: UdpTransportOptions,
  ) {
    socket.on('message', (data, rinfo) => this.receive(data, { host: rinfo.address, port: rinfo.port }));
    socket.on('error', (error) => this.options.onError?.(error));
  }

  /** Binds a socket and resolves once it is listening. */
  static open(options: UdpTransportOptions = {}): Promise<SipUdpTransport> {
    const host = options.host ?? '127.0.0.1';
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 0, host, () => {
        socket.off('error', reject);
        try {
          socket.setRecvBufferSize(options.receiveBufferBytes ?? 4 * 1024 * 1024);
        } catch {
          // Not allowed here: the system's default buffer it is.
        }
        resolve(new SipUdpTransport(socket, options));
      });
    });
  }

  /** The bound address, for Via sent-by and Contact. */
  get address(): SipDestination {
    const { address, port } = this.socket.address();
    return { host: address, port };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Replaces the receiver, e.g. once the transaction layer that owns this transport exists. */
  setMessageHandler(handler: (message: SipMessage, source: SipDestination) => void): void {
    this.options.onMessage = handler;
  }

  send(message: SipMessage, destination: SipDestination): void {
    if (this.isClosed) throw new InvalidStateError('the UDP transport is closed');
    const host = destination.host.replace(/^\[(.*)\]$/, '$1');
    this.inFlight++;
    this.socket.send(serializeSipMessage(message), destination.port, host, (error) => {
      if (--this.inFlight === 0) this.flushed?.();
      if (error) this.options.onError?.(error);
    });
  }

  /**
   * Closes the socket once the datagrams already handed to it have left (a BYE sent at
   * shutdown must not be dropped: dgram resolves the address on a later tick, and a socket
   * closed before then discards the send); idempotent, resolves when it is closed.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.isClosed = true;
      const sent = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.flushed = resolve));
      this.closing = sent.then(() => new Promise((resolve) => this.socket.close(() => resolve())));
    }
    return this.closing;
  }

  private receive(data: Buffer, source: SipDestination): void {
    if (this.isClosed) return;
    if (data.every((byte) => byte === 0x0d || byte === 0x0a)) return; // keep-alive (RFC 5626 §4.4.1 style)
    if (this.options.drop?.(data, source)) return;
    const result = parseSipMessage(data, { framing: 'datagram', maxHeaderBytes: this.options.maxHeaderBytes ?? 16 * 1024 });
    if (result.ok) {
      this.options.onMessage?.(result.message, source);
      return;
    }
    const rejection = rejectionFor(result);
    if (rejection) this.send(rejection, source);
    this.options.onMalformed?.(result.error, source, rejection !== undefined);
  }
}
