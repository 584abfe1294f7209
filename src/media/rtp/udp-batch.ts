/**
 * A media worker's UDP sockets on the native batch module (native-udp.ts): datagrams are read
 * once per tick for all sockets (`receive`, before the mix) and the tick's packets leave in one
 * call (`flush`, after it). The thread wakes 50 times a second instead of once per datagram,
 * which is how the media plane does less per packet (reference/media-plane.md, addendum: the
 * cost of a conference bridge is per-packet I/O and wake-ups, not mixing arithmetic).
 *
 * Reading once per tick adds no delay that matters: the mixer consumes one frame per leg per
 * tick anyway, and each datagram keeps its kernel arrival time for RTCP jitter.
 */
import { MAX_DATAGRAM, RECV_STRIDE, SEND_STRIDE, intToIpv4, ipv4ToInt } from './native-udp.js';
import type { NativeUdp } from './native-udp.js';
import { RECV_BUFFER_BYTES } from './rtp-socket.js';
import type { DatagramHandler, RtpSocket, RtpSocketFactory } from './rtp-socket.js';

/** Datagrams read per native call; more are read by calling again. */
const RECV_CAPACITY = 1024;
/** Packets queued before a flush is forced (a tick of 1,000 legs sends about 1,000). */
const SEND_CAPACITY = 2048;
/** Bytes of packets queued before a flush is forced; they are packed one after another. */
const SEND_BYTES = 1 << 20;

class BatchSocket implements RtpSocket {
  readonly localPort: number;
  handler: DatagramHandler | null = null;
  errorHandler: (() => void) | null = null;
  closed = false;
  /** The last source seen, so its address string is built once, not per datagram. */
  fromIp = 0;
  fromPort = -1;
  fromAddress = '';
  /** The last destination, so its string is parsed once. */
  private toAddress = '';
  private toIp = 0;

  constructor(
    private readonly batch: UdpBatch,
    readonly fd: number,
    readonly token: number,
    readonly localAddress: string,
  ) {
    this.localPort = batch.native.localPort(fd);
  }

  send(buf: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    if (address !== this.toAddress) {
      const ip = ipv4ToInt(address);
      if (ip === null) {
        this.errorHandler?.();
        return;
      }
      this.toAddress = address;
      this.toIp = ip;
    }
    this.batch.enqueue(this, this.toIp, port, buf);
  }

  onMessage(handler: DatagramHandler): void {
    this.handler = handler;
  }

  onError(handler: () => void): void {
    this.errorHandler = handler;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.batch.forget(this);
    }
    return Promise.resolve();
  }
}

export class UdpBatch {
  private readonly pollFd: number;
  private readonly sockets = new Map<number, BatchSocket>();
  private nextToken = 1;
  private readonly recvData = new Uint8Array(RECV_CAPACITY * MAX_DATAGRAM);
  private readonly recvMeta = new Int32Array(RECV_CAPACITY * RECV_STRIDE);
  private readonly recvTimes = new Float64Array(RECV_CAPACITY);
  private readonly sendData = new Uint8Array(SEND_BYTES);
  private readonly sendMeta = new Int32Array(SEND_CAPACITY * SEND_STRIDE);
  private readonly queued: (BatchSocket | null)[] = [];
  private sendCount = 0;
  private sendUsed = 0;
  private closed = false;

  constructor(readonly native: NativeUdp) {
    this.pollFd = native.pollCreate();
  }

  /** The factory legs open their sockets with (IPv4 only; the caller falls back to dgram for IPv6). */
  readonly open: RtpSocketFactory = (host, port) => {
    const ip = ipv4ToInt(host);
    if (ip === null) return Promise.reject(new Error(`the batched UDP path is IPv4 only, not ${host}`));
    if (this.closed) return Promise.reject(new Error('UDP batch closed'));
    try {
      return Promise.resolve(this.openSync(ip, port, host));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };

  get socketCount(): number {
    return this.sockets.size;
  }

  private openSync(ip: number, port: number, host: string): BatchSocket {
    const fd = this.native.open(ip, port, RECV_BUFFER_BYTES);
    const token = this.nextToken;
    this.nextToken = (this.nextToken % 0x7fffffff) + 1;
    try {
      this.native.pollAdd(this.pollFd, fd, token);
    } catch (err) {
      this.native.close(fd);
      throw err;
    }
    const socket = new BatchSocket(this, fd, token, host);
    this.sockets.set(token, socket);
    return socket;
  }

  enqueue(socket: BatchSocket, ip: number, port: number, buf: Uint8Array): void {
    if (buf.length > MAX_DATAGRAM) {
      socket.errorHandler?.();
      return;
    }
    if (this.sendCount === SEND_CAPACITY || this.sendUsed + buf.length > this.sendData.length) this.flush();
    const m = this.sendCount * SEND_STRIDE;
    const meta = this.sendMeta;
    meta[m] = socket.fd;
    meta[m + 1] = ip;
    meta[m + 2] = port;
    meta[m + 3] = this.sendUsed;
    meta[m + 4] = buf.length;
    meta[m + 5] = 0;
    this.sendData.set(buf, this.sendUsed);
    this.sendUsed += buf.length;
    this.queued[this.sendCount++] = socket;
  }

  /** Sends everything queued; a failed datagram is reported to its socket's error handler. */
  flush(): void {
    const count = this.sendCount;
    if (count === 0) return;
    this.sendCount = 0;
    this.sendUsed = 0;
    const failed = this.native.send(this.sendData, this.sendMeta, count);
    if (failed > 0) {
      for (let i = 0; i < count; i++) if (this.sendMeta[i * SEND_STRIDE + 5] !== 0) this.queued[i]?.errorHandler?.();
    }
    this.queued.fill(null, 0, count);
  }

  /** Reads every waiting datagram and hands each to its socket's handler. */
  receive(): void {
    if (this.closed) return;
    const { recvData: data, recvMeta: meta, recvTimes: times } = this;
    for (;;) {
      const n = this.native.receive(this.pollFd, data, meta, times);
      for (let i = 0; i < n; i++) {
        const m = i * RECV_STRIDE;
        const socket = this.sockets.get(meta[m]!);
        if (socket === undefined || socket.handler === null) continue;
        const ip = meta[m + 1]!;
        const port = meta[m + 2]!;
        if (ip !== socket.fromIp || port !== socket.fromPort) {
          socket.fromIp = ip;
          socket.fromPort = port;
          socket.fromAddress = intToIpv4(ip);
        }
        const off = meta[m + 3]!;
        socket.handler(data.subarray(off, off + meta[m + 4]!), socket.fromAddress, port, times[i]!);
      }
      if (n < RECV_CAPACITY) return;
    }
  }

  /**
   * Called by a closing socket: what it queued leaves now, before its fd is closed (and can be
   * reused). A leg that moves to another worker closes its socket between two ticks, and what
   * it queued last may matter: a DTLS server's final flight (ChangeCipherSpec + Finished) is
   * queued as its handshake settles, which is when a move waiting on it goes on (RFC 6347
   * §4.2.4: the client then only hears it if it retransmits its own flight). The queue is sent
   * whole, the other sockets' datagrams a little before the tick would have sent them.
   */
  forget(socket: BatchSocket): void {
    this.sockets.delete(socket.token);
    for (let i = 0; i < this.sendCount; i++) {
      if (this.queued[i] === socket) {
        this.flush();
        break;
      }
    }
    this.native.close(socket.fd);
  }

  /** Closes every socket and the poll set. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sockets.values()]) void s.close();
    this.native.close(this.pollFd);
  }
}
