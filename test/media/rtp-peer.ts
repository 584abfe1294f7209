/**
 * Test helper: a raw-dgram RTP endpoint on 127.0.0.1 that sends a tone (or nothing) as G.711
 * and decodes everything it receives, with bounded waits on packet counts.
 */
import dgram from 'node:dgram';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { parseRtp, serializeRtp } from '../../src/media/rtp/rtp-packet.js';
import { ToneSource } from './goertzel.js';

export class RtpPeer {
  readonly received: Int16Array[] = [];
  /** Header fields and source port of each received packet, in step with `received`. */
  readonly headers: { payloadType: number; ssrc: number; seq: number; fromPort: number }[] = [];
  private seq = 0;
  private seqBase = 0;
  private tsBase = 0;
  private ssrc: number;
  private tone: ToneSource | null;
  private readonly payload = new Uint8Array(160);
  private waiters: { count: number; resolve: () => void }[] = [];
  target = 0;

  private constructor(
    readonly socket: dgram.Socket,
    readonly codec: 'PCMU' | 'PCMA',
    readonly hz: number | null,
  ) {
    this.tone = hz === null ? null : new ToneSource(hz, 8000);
    this.ssrc = 1000 + (hz ?? 0);
    socket.on('message', (msg, rinfo) => {
      const p = parseRtp(msg);
      if (!p) return;
      this.headers.push({ payloadType: p.payloadType, ssrc: p.ssrc, seq: p.sequenceNumber, fromPort: rinfo.port });
      const pcm = new Int16Array(160);
      if (this.codec === 'PCMU') decodeMulaw(p.payload, pcm);
      else decodeAlaw(p.payload, pcm);
      this.received.push(pcm);
      this.waiters = this.waiters.filter((w) => {
        if (this.received.length < w.count) return true;
        w.resolve();
        return false;
      });
    });
  }

  static async open(hz: number | null, codec: 'PCMU' | 'PCMA' = 'PCMU'): Promise<RtpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RtpPeer(socket, codec, hz);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends the next 20 ms of the tone (no-op for a silent peer). */
  sendFrame(): void {
    if (this.tone === null || this.target === 0) return;
    if (this.codec === 'PCMU') encodeMulaw(this.tone.pop(), this.payload);
    else encodeAlaw(this.tone.pop(), this.payload);
    const s = this.seq++;
    this.emit(this.codec === 'PCMU' ? 0 : 8, this.payload, s === 0, s);
  }

  /**
   * Sends one packet of the peer's stream (its SSRC, the next sequence number, the timestamp of
   * the next audio frame) with another payload type: an RFC 4733 event, a stray codec.
   */
  sendRaw(payloadType: number, payload: Uint8Array, timestamp?: number): void {
    this.emit(payloadType, payload, false, this.seq++, timestamp);
  }

  private emit(payloadType: number, payload: Uint8Array, marker: boolean, s: number, timestamp = (this.tsBase + s * 160) >>> 0): void {
    const pkt = serializeRtp({ marker, payloadType, sequenceNumber: (this.seqBase + s) & 0xffff, timestamp, ssrc: this.ssrc, payload });
    this.socket.send(pkt, this.target, '127.0.0.1');
  }

  /** Restarts the stream as a new source: new SSRC, sequence and timestamp base, maybe a new tone. */
  restart(ssrc: number, hz = this.hz): void {
    this.ssrc = ssrc;
    this.seqBase = 40000;
    this.tsBase = 0x7000_0000;
    this.seq = 0;
    this.tone = hz === null ? null : new ToneSource(hz, 8000);
  }

  /** Resolves once `count` packets in total were received; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer got ${this.received.length}/${count} packets`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  last(n = 1): Int16Array {
    const frames = this.received.slice(-n);
    const out = new Int16Array(frames.length * 160);
    frames.forEach((f, i) => out.set(f, i * 160));
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Mean |sample|. */
export function level(pcm: Int16Array): number {
  let s = 0;
  for (let i = 0; i < pcm.length; i++) s += Math.abs(pcm[i]!);
  return pcm.length > 0 ? s / pcm.length : 0;
}
