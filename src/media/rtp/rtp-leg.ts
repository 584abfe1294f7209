/**
 * One leg's RTP endpoint: a UDP socket that receives G.711 (RFC 3551 §4.5.14: PCMU = payload
 * type 0, PCMA = 8, 8 kHz, 20 ms = 160 octets per packet), decodes it into the leg's jitter
 * buffer, and sends encoded frames with its own SSRC, sequence number and timestamp
 * (RFC 3550 §5.1: random initial values; timestamp advances by the samples per packet).
 *
 * Design choices, after reference/media-plane.md §2.2–2.3:
 * - one socket per leg (ports from a range, even numbers as RFC 3550 §11 recommends for RTP),
 *   with a large receive buffer so a busy event loop does not lose datagrams in the kernel;
 * - the receive handler parses into a reused view and decodes straight from the datagram with
 *   the lookup table, so a packet costs no allocation beyond the Buffer Node hands us;
 * - the mixer pulls decoded frames with `pop()` (a leg is a FrameSource);
 * - `sendPayload` sends bytes that are already encoded, so the room's shared mix is encoded once
 *   and sent to every listener that hears it (Asterisk's softmix_translate_helper idea);
 * - with no remote address known from SDP the leg latches onto the source of the first valid
 *   packet (symmetric RTP, RFC 4961), which is what endpoints behind NAT need;
 * - only the codec's payload type is decoded. RFC 4733 telephone-events (the payload type the
 *   SDP negotiated) are DTMF: a digit is reported once per event, on its first end packet (the
 *   end is sent three times with the same timestamp, §2.5.1.4). Any other payload type (comfort
 *   noise, a codec we did not offer) is counted and dropped, never played as G.711.
 */
import dgram from 'node:dgram';
import { ALAW_DECODE, ALAW_ENCODE, ALAW_SILENCE, MULAW_DECODE, MULAW_ENCODE, MULAW_SILENCE } from '../codec/g711.js';
import { JitterBuffer } from '../jitter-buffer.js';
import type { JitterBufferOptions } from '../jitter-buffer.js';
import { RTP_HEADER_SIZE, createRtpView, readRtp, writeRtpHeader } from './rtp-packet.js';

export type G711Codec = 'PCMU' | 'PCMA';

/** Static payload types of RFC 3551 Table 4. */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Codec, number>> = { PCMU: 0, PCMA: 8 };

const FRAME_SAMPLES = 160;
/** Send buffers rotate so a datagram still queued in libuv is never overwritten. */
const SEND_RING = 4;

export interface RtpLegOptions {
  codec?: G711Codec;
  /** Local address to bind (default 127.0.0.1). */
  host?: string;
  /** Fixed local port; 0 (default) lets the OS choose. Ignored when `portRange` is given. */
  port?: number;
  /** Inclusive range to take the first free even port from. */
  portRange?: { min: number; max: number };
  /** Where to send; otherwise learnt from the first valid packet received. */
  remote?: { address: string; port: number };
  ssrc?: number;
  /** Kernel receive buffer in bytes (default 1 MiB). */
  recvBufferSize?: number;
  jitterBuffer?: JitterBufferOptions;
  /** The peer's RFC 4733 telephone-event payload type (null/absent = none negotiated). */
  telephoneEventPayloadType?: number | null;
}

/** RFC 4733 §3.2 event codes 0–15. */
const DTMF_DIGITS = '0123456789*#ABCD';

export interface RtpLegStats {
  packetsReceived: number;
  packetsSent: number;
  /** Datagrams that were not valid RTP. */
  malformed: number;
  /** Valid RTP with neither the codec's nor the telephone-event payload type. */
  otherPayloadType: number;
  /** RFC 4733 telephone-event packets (not audio, not in packetsReceived). */
  telephoneEvents: number;
  sendErrors: number;
}

export class RtpLeg {
  readonly jitterBuffer: JitterBuffer;
  readonly stats: RtpLegStats = { packetsReceived: 0, packetsSent: 0, malformed: 0, otherPayloadType: 0, telephoneEvents: 0, sendErrors: 0 };
  readonly ssrc: number;
  /** Called after each accepted audio packet went into the jitter buffer (tests, metrics). */
  onPacket: ((sequenceNumber: number) => void) | null = null;
  /** Called once per DTMF digit the peer sent (RFC 4733 event 0–15, on its end). */
  onDtmf: ((digit: string) => void) | null = null;
  readonly telephoneEventPayloadType: number | null;

  /** Change only with setCodec (the SDP answer picked another codec than the offer's first). */
  private audioCodec: G711Codec;
  private audioPt: number;
  private readonly socket: dgram.Socket;
  private decodeTable: Int16Array;
  private encodeTable: Uint8Array;
  private readonly view = createRtpView();
  private readonly decoded = new Int16Array(FRAME_SAMPLES);
  private readonly sendBufs: Uint8Array[] = [];
  private sendIndex = 0;
  private remoteAddress: string | null = null;
  private remotePort = 0;
  private seq: number;
  private timestamp: number;
  private firstSend = true;
  private closed = false;
  /** Timestamp of the last event whose end was reported (the end packet is repeated). */
  private lastEventTs = -1;
  /**
   * Telephone-events (and comfort noise) share the audio's SSRC and sequence numbers
   * (RFC 4733 §2.1), so each leaves a hole in the audio's numbering. Audio is pushed with the
   * non-audio packets of its SSRC seen so far subtracted, so the jitter buffer does not play
   * those holes as lost frames (silence, and 20 ms of extra latency per packet).
   */
  private seqShift = 0;
  private shiftSsrc = -1;
  private readonly onSendDone: (err: Error | null) => void;

  private constructor(socket: dgram.Socket, options: RtpLegOptions) {
    this.socket = socket;
    this.audioCodec = options.codec ?? 'PCMU';
    this.audioPt = G711_PAYLOAD_TYPE[this.audioCodec];
    this.telephoneEventPayloadType = options.telephoneEventPayloadType ?? null;
    this.decodeTable = this.audioCodec === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
    this.encodeTable = this.audioCodec === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
    this.jitterBuffer = new JitterBuffer(options.jitterBuffer);
    this.ssrc = (options.ssrc ?? randomUint32()) >>> 0;
    this.seq = randomUint32() & 0xffff;
    this.timestamp = randomUint32();
    for (let i = 0; i < SEND_RING; i++) this.sendBufs.push(new Uint8Array(RTP_HEADER_SIZE + FRAME_SAMPLES));
    if (options.remote) this.setRemote(options.remote.address, options.remote.port);
    this.onSendDone = (err) => {
      if (err) this.stats.sendErrors++;
    };
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port));
    // A UDP error (e.g. ICMP port unreachable surfaced by the OS) must not crash the process.
    socket.on('error', () => {
      this.stats.sendErrors++;
    });
  }

  /** Binds a socket (from the range, if given) and returns the leg. */
  static async open(options: RtpLegOptions = {}): Promise<RtpLeg> {
    const host = options.host ?? '127.0.0.1';
    const te = options.telephoneEventPayloadType;
    if (te !== undefined && te !== null && (!Number.isInteger(te) || te < 0 || te > 127 || te === G711_PAYLOAD_TYPE[options.codec ?? 'PCMU'])) {
      throw new Error(`bad telephone-event payload type ${te}`);
    }
    const socket = await bindSocket(host, options);
    socket.setRecvBufferSize(options.recvBufferSize ?? 1 << 20);
    return new RtpLeg(socket, options);
  }

  get codec(): G711Codec {
    return this.audioCodec;
  }

  get payloadType(): number {
    return this.audioPt;
  }

  get localAddress(): string {
    return this.socket.address().address;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  get remote(): { address: string; port: number } | null {
    return this.remoteAddress === null ? null : { address: this.remoteAddress, port: this.remotePort };
  }

  setRemote(address: string, port: number): void {
    this.remoteAddress = address;
    this.remotePort = port;
  }

  /**
   * Switches the codec both ways from the next packet; the RTP stream (SSRC, sequence numbers,
   * timestamps) and the jitter buffer carry on, as the clock rate is the same 8 kHz.
   */
  setCodec(codec: G711Codec): void {
    if (!Object.hasOwn(G711_PAYLOAD_TYPE, codec)) throw new Error(`unknown codec ${String(codec)}`);
    if (G711_PAYLOAD_TYPE[codec] === this.telephoneEventPayloadType) throw new Error(`codec ${codec} collides with the telephone-event payload type`);
    this.audioCodec = codec;
    this.audioPt = G711_PAYLOAD_TYPE[codec];
    this.decodeTable = codec === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
    this.encodeTable = codec === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
  }

  /** The next decoded frame for the mixer (see JitterBuffer.pop). */
  pop(): Int16Array | null {
    return this.jitterBuffer.pop();
  }

  /** Encodes one 20 ms frame (null = silence) with this leg's codec and sends it. */
  send(frame: Int16Array | null): void {
    const buf = this.nextSendBuffer();
    const table = this.encodeTable;
    if (frame === null) {
      buf.fill(this.audioCodec === 'PCMU' ? MULAW_SILENCE : ALAW_SILENCE, RTP_HEADER_SIZE);
    } else {
      for (let i = 0; i < FRAME_SAMPLES; i++) buf[RTP_HEADER_SIZE + i] = table[frame[i]! & 0xffff]!;
    }
    this.transmit(buf);
  }

  /** Sends 160 bytes already encoded with this leg's codec (a shared mix encoded once). */
  sendPayload(payload: Uint8Array): void {
    const buf = this.nextSendBuffer();
    buf.set(payload.length === FRAME_SAMPLES ? payload : payload.subarray(0, FRAME_SAMPLES), RTP_HEADER_SIZE);
    this.transmit(buf);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private nextSendBuffer(): Uint8Array {
    const buf = this.sendBufs[this.sendIndex]!;
    this.sendIndex = (this.sendIndex + 1) % SEND_RING;
    return buf;
  }

  private transmit(buf: Uint8Array): void {
    // The marker bit flags the first packet of the stream (RFC 3551 §4.1, start of talkspurt).
    writeRtpHeader(buf, this.firstSend, this.audioPt, this.seq, this.timestamp, this.ssrc);
    this.firstSend = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    if (this.remoteAddress === null || this.closed) return; // nowhere to send yet; the clock still advances
    this.socket.send(buf, 0, buf.length, this.remotePort, this.remoteAddress, this.onSendDone);
    this.stats.packetsSent++;
  }

  private receive(msg: Uint8Array, address: string, port: number): void {
    const v = this.view;
    if (!readRtp(msg, v)) {
      this.stats.malformed++;
      return;
    }
    if (v.payloadType !== this.audioPt) {
      if (v.ssrc === this.shiftSsrc) this.seqShift++;
      if (v.payloadType === this.telephoneEventPayloadType) this.receiveEvent(msg, address, port);
      else this.stats.otherPayloadType++;
      return;
    }
    this.stats.packetsReceived++;
    if (this.remoteAddress === null) this.setRemote(address, port);
    if (v.ssrc !== this.shiftSsrc) {
      this.shiftSsrc = v.ssrc;
      this.seqShift = 0;
    }
    const n = v.payloadLength < FRAME_SAMPLES ? v.payloadLength : FRAME_SAMPLES;
    const out = this.decoded;
    const table = this.decodeTable;
    for (let i = 0, o = v.payloadOffset; i < n; i++) out[i] = table[msg[o + i]!]!;
    if (n < FRAME_SAMPLES) out.fill(0, n);
    this.jitterBuffer.push((v.sequenceNumber - this.seqShift) & 0xffff, v.timestamp, v.ssrc, out);
    if (this.onPacket !== null) this.onPacket(v.sequenceNumber);
  }

  /** An RFC 4733 packet (§2.3: event 8 bits, E, R, volume 6 bits, duration 16 bits). */
  private receiveEvent(msg: Uint8Array, address: string, port: number): void {
    const v = this.view;
    this.stats.telephoneEvents++;
    if (this.remoteAddress === null) this.setRemote(address, port);
    if (v.payloadLength < 4) return;
    const event = msg[v.payloadOffset]!;
    const end = (msg[v.payloadOffset + 1]! & 0x80) !== 0;
    if (!end || v.timestamp === this.lastEventTs) return;
    this.lastEventTs = v.timestamp;
    if (event < DTMF_DIGITS.length && this.onDtmf !== null) this.onDtmf(DTMF_DIGITS[event]!);
  }
}

function randomUint32(): number {
  return (Math.random() * 0x100000000) >>> 0;
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
    socket.bind(port, host);
  });
}

async function bindSocket(host: string, options: RtpLegOptions): Promise<dgram.Socket> {
  const type = host.includes(':') ? 'udp6' : 'udp4';
  if (!options.portRange) {
    const socket = dgram.createSocket(type);
    await bindOnce(socket, host, options.port ?? 0);
    return socket;
  }
  const { min, max } = options.portRange;
  for (let port = min + (min & 1); port <= max; port += 2) {
    // A socket that failed to bind cannot be reused; make a fresh one per attempt.
    const socket = dgram.createSocket(type);
    try {
      await bindOnce(socket, host, port);
      return socket;
    } catch (err) {
      try {
        socket.close();
      } catch {
        // already torn down by the failed bind
      }
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error(`no free even UDP port in ${min}-${max} on ${host}`);
}
