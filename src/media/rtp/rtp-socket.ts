/**
 * What an RTP leg needs from a UDP socket, and the node:dgram implementation of it. The other
 * implementation (udp-batch.ts) queues sends and delivers datagrams once per media tick; a leg
 * cannot tell them apart.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** A datagram arrived: its bytes (valid only during the call), source, and arrival (epoch ms). */
export type DatagramHandler = (msg: Uint8Array, address: string, port: number, arrivedAtMs: number) => void;

export interface RtpSocket {
  readonly localAddress: string;
  readonly localPort: number;
  /** Sends (or queues) one datagram; `buf` may be reused by the caller once this returns. */
  send(buf: Uint8Array, port: number, address: string): void;
  /** One handler per socket; a later call replaces it. */
  onMessage(handler: DatagramHandler): void;
  /** A send failed (e.g. the OS surfaced an ICMP error); the socket stays usable. */
  onError(handler: () => void): void;
  close(): Promise<void>;
}

/**
 * Kernel receive buffer of every RTP/RTCP socket, set at open: a busy thread (or one that reads
 * once per tick) must not lose datagrams in the kernel. Memory is taken only as datagrams wait.
 */
export const RECV_BUFFER_BYTES = 1 << 20;

/** Opens a socket bound to host:port (0 = any); rejects with the bind error (`code` EADDRINUSE…). */
export type RtpSocketFactory = (host: string, port: number) => Promise<RtpSocket>;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * Resolves IP literals at once; anything else is an error (we never send to names). dgram's
 * default (dns.lookup) answers even a literal through process.nextTick, i.e. one extra callback
 * per sent packet on the hot path.
 */
function literalLookup(address: string, family: unknown, callback: LookupCallback): void {
  const f = net.isIP(address);
  if (f === 0) {
    const err: NodeJS.ErrnoException = new Error(`not an IP address: ${address}`);
    err.code = 'EINVAL';
    callback(err, address, 0);
    return;
  }
  callback(null, address, f);
}

/** Wall-clock ms with sub-ms precision: comparable across worker threads (unlike performance.now). */
const TIME_ORIGIN = performance.timeOrigin;
export const wallNow = (): number => TIME_ORIGIN + performance.now();

class DgramRtpSocket implements RtpSocket {
  readonly localAddress: string;
  readonly localPort: number;

  constructor(private readonly socket: dgram.Socket) {
    const a = socket.address();
    this.localAddress = a.address;
    this.localPort = a.port;
  }

  send(buf: Uint8Array, port: number, address: string): void {
    // No callback: a completion callback per packet is measurable at 50 k packets/s, and a
    // failed send of one 20 ms frame needs no handling (the next tick sends the next). Node
    // copies nothing, so the caller rotates its buffers (rtp-leg.ts SEND_RING).
    this.socket.send(buf, port, address);
  }

  onMessage(handler: DatagramHandler): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', (msg, rinfo) => handler(msg, rinfo.address, rinfo.port, wallNow()));
  }

  onError(handler: () => void): void {
    this.socket.removeAllListeners('error');
    this.socket.on('error', handler);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

function bindOnce(socket: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ port, address: host, exclusive: true });
  });
}

/** The dgram factory: works everywhere, IPv4 and IPv6. */
export const openDgramSocket: RtpSocketFactory = async (host, port) => {
  const type = host.includes(':') ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({ type, lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
  try {
    await bindOnce(socket, host, port);
  } catch (err) {
    try {
      socket.close();
    } catch {
      // already torn down by the failed bind
    }
    throw err;
  }
  socket.setRecvBufferSize(RECV_BUFFER_BYTES);
  // Errors before a handler is set must not crash the process.
  socket.on('error', () => undefined);
  return new DgramRtpSocket(socket);
};
