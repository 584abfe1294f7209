/**
 * One leg's RTP endpoint: a UDP socket that receives G.711 (RFC 3551 §4.5.14: PCMU = payload
 * type 0, PCMA = 8, 8 kHz, 20 ms = 160 octets per packet), decodes it into the leg's jitter
 * buffer, and sends encoded frames with its own SSRC, sequence number and timestamp
 * (RFC 3550 §5.1: random initial values; timestamp advances by the samples per packet).
 *
 * Design choices, after reference/media-plane.md §2.2–2.3:
 * - one socket per leg (ports from a range, even numbers as RFC 3550 §11 recommends for RTP),
 *   with a large receive buffer (rtp-socket.ts) so datagrams are not lost in the kernel;
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
 *   noise, a codec we did not offer) is counted and dropped, never played as G.711. A peer
 *   without telephone-event can only send digits in the audio: what it sends goes through the
 *   in-band detector (dtmf-detector.ts), and the digits are reported the same way;
 * - digits going out (keypad.ts) are events in place of audio when the peer negotiated
 *   telephone-event (`sendEvent`), else tones in the audio the engine sends;
 * - RTCP (RFC 3550 §6) on the next, odd, port: a compound SR + SDES CNAME about every 5 s while
 *   sending, SR/RR from the peer parsed into receiver figures (rtcp-session.ts). RTCP that
 *   arrives on the RTP port (RFC 5761 multiplexing, second octet 192–223) is RTCP, not audio,
 *   and from then on our reports go to the RTP port too;
 * - the sockets are RtpSockets (rtp-socket.ts): node:dgram, or, in a media worker, the batched
 *   native UDP that reads and sends once per tick (udp-batch.ts); the per-packet path allocates
 *   as little as either allows (an exact-length buffer, no slice, addresses parsed once);
 * - `snapshot()` and `open({ restore })` carry the stream (SSRC, sequence, timestamp, codec,
 *   remote, counters, RTCP state) to a leg that binds the same ports in another media worker;
 * - SRTP (RFC 3711, `options.srtp`): what we send is protected with our key into buffers of
 *   their own (rings of exact SRTP length, as for plain RTP); what arrives is unprotected with
 *   the peer's key into one scratch buffer before anything else reads it, so a packet that
 *   fails (wrong tag, replay, no peer key yet) is counted and dropped before it can latch the
 *   remote address, reach the jitter buffer or the RTCP figures. RTCP goes as SRTCP both ways.
 */
import { ALAW_DECODE, ALAW_ENCODE, ALAW_SILENCE, MULAW_DECODE, MULAW_ENCODE, MULAW_SILENCE } from '../codec/g711.js';
import { JitterBuffer } from '../jitter-buffer.js';
import { isMuxedRtcp, parseRtcp } from './rtcp-packet.js';
import { RtcpSession } from './rtcp-session.js';
import type { ReceiverFigures } from './rtcp-session.js';
import { G711_PAYLOAD_TYPE } from './rtp-leg-types.js';
import type { G711Codec, RtpLegOptions, RtpLegState, RtpLegStats } from './rtp-leg-types.js';
import { RTP_HEADER_SIZE, createRtpView, readRtp, writeRtpHeader } from './rtp-packet.js';
import { openDgramSocket, wallNow } from './rtp-socket.js';
import type { RtpSocket } from './rtp-socket.js';
import { bindPair, bindPairAt } from './udp.js';
import { MediaError } from '../media-error.js';
import { EVENT_VOLUME } from '../keypad.js';
import { DtmfDetector } from '../dtmf-detector.js';
import { SRTP_AUTH_FAILED, SRTP_REPLAYED, SrtpContext } from './srtp-context.js';
import { checkSrtpKey } from './srtp-keys.js';
import type { SrtpKey } from './srtp-keys.js';

export { G711_PAYLOAD_TYPE } from './rtp-leg-types.js';
export type { G711Codec, RtpLegOptions, RtpLegSrtp, RtpLegState, RtpLegStats } from './rtp-leg-types.js';

const FRAME_SAMPLES = 160;
/** Send buffers rotate so a datagram still queued in libuv (dgram) is never overwritten. */
const SEND_RING = 4;
/** RFC 3550 §6.2: 5 s is the recommended minimum report interval. */
const DEFAULT_RTCP_INTERVAL_MS = 5000;
/** RFC 4733 §3.2 event codes 0–15. */
const DTMF_DIGITS = '0123456789*#ABCD';
/** An SRTP datagram larger than this is not audio we sent for; it is dropped as malformed. */
const SRTP_SCRATCH_OCTETS = 2048;

export class RtpLeg {
  readonly jitterBuffer: JitterBuffer;
  readonly stats: RtpLegStats;
  readonly ssrc: number;
  /** Called after each accepted audio packet went into the jitter buffer (tests, metrics). */
  onPacket: ((sequenceNumber: number) => void) | null = null;
  /** Called once per DTMF digit the peer sent (RFC 4733 event 0–15, on its end). */
  onDtmf: ((digit: string) => void) | null = null;
  /** Change only with setTelephoneEvent (the SDP answer said whether the peer takes events). */
  telephoneEventPayloadType: number | null;
  /** In-band DTMF detection, on for a peer without telephone-event (a peer with it sends digits as events). */
  detector: DtmfDetector | null;

  /** Change only with setCodec (the SDP answer picked another codec than the offer's first). */
  private audioCodec: G711Codec;
  private audioPt: number;
  private readonly socket: RtpSocket;
  private readonly rtcpSocket: RtpSocket | null;
  private readonly rtcp: RtcpSession;
  private readonly rtcpIntervalMs: number;
  private readonly host: string;
  private decodeTable: Int16Array;
  private encodeTable: Uint8Array;
  private readonly view = createRtpView();
  private readonly decoded = new Int16Array(FRAME_SAMPLES);
  private readonly sendBufs: Uint8Array[] = [];
  /** RFC 4733 packets (12-byte header, 4-byte payload), rotating with the audio buffers. */
  private readonly eventBufs: Uint8Array[] = [];
  private sendIndex = 0;
  private remoteAddress: string | null = null;
  private remotePort = 0;
  /** Where the peer's RTCP came from (symmetric RTCP, RFC 4961); else remote port + 1. */
  private rtcpRemote: { address: string; port: number } | null = null;
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
  /** SRTP: protects what we send (our key); null on a plain RTP leg. */
  private readonly srtpOut: SrtpContext | null = null;
  /** SRTP: unprotects what the peer sends (its key); null until its key is known. */
  private srtpIn: SrtpContext | null = null;
  /** SRTP send rings: 20 ms audio and RFC 4733 events, each at its exact protected length. */
  private readonly srtpAudioBufs: Uint8Array[] = [];
  private readonly srtpEventBufs: Uint8Array[] = [];
  private srtpIndex = 0;
  private readonly srtpScratch: Uint8Array | null = null;

  private constructor(socket: RtpSocket, rtcpSocket: RtpSocket | null, host: string, options: RtpLegOptions) {
    const r = options.restore;
    this.socket = socket;
    this.rtcpSocket = rtcpSocket;
    this.host = host;
    this.audioCodec = r?.codec ?? options.codec ?? 'PCMU';
    this.audioPt = G711_PAYLOAD_TYPE[this.audioCodec];
    this.telephoneEventPayloadType = r ? r.telephoneEventPayloadType : (options.telephoneEventPayloadType ?? null);
    this.detector = this.telephoneEventPayloadType === null ? new DtmfDetector() : null;
    this.decodeTable = this.audioCodec === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
    this.encodeTable = this.audioCodec === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
    this.jitterBuffer = new JitterBuffer(options.jitterBuffer);
    this.stats = r
      ? { ...r.stats }
      : { packetsReceived: 0, packetsSent: 0, malformed: 0, otherPayloadType: 0, telephoneEvents: 0, sendErrors: 0, rtcpReceived: 0, srtpAuthFailures: 0, srtpReplays: 0 };
    this.ssrc = (r?.ssrc ?? options.ssrc ?? randomUint32()) >>> 0;
    this.seq = r?.seq ?? randomUint32() & 0xffff;
    this.timestamp = r?.timestamp ?? randomUint32();
    this.rtcpIntervalMs = r?.rtcpIntervalMs ?? options.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS;
    this.rtcp = new RtcpSession(Math.max(1, Math.round(this.rtcpIntervalMs / 20)), r ? structuredClone(r.rtcp) : undefined);
    if (r) {
      this.firstSend = r.firstSend;
      this.rtcpRemote = r.rtcpRemote;
      this.seqShift = r.seqShift;
      this.shiftSsrc = r.shiftSsrc;
      this.lastEventTs = r.lastEventTs;
    }
    for (let i = 0; i < SEND_RING; i++) this.sendBufs.push(new Uint8Array(RTP_HEADER_SIZE + FRAME_SAMPLES));
    for (let i = 0; i < SEND_RING; i++) this.eventBufs.push(new Uint8Array(RTP_HEADER_SIZE + 4));
    const srtp = r ? r.srtp : options.srtp ? { send: options.srtp.local, receive: options.srtp.remote ?? null } : null;
    if (srtp) {
      const send = 'suite' in srtp.send ? new SrtpContext(srtp.send) : new SrtpContext(srtp.send.key, srtp.send);
      this.srtpOut = send;
      if (srtp.receive !== null) this.srtpIn = 'suite' in srtp.receive ? new SrtpContext(srtp.receive) : new SrtpContext(srtp.receive.key, srtp.receive);
      this.srtpScratch = new Uint8Array(SRTP_SCRATCH_OCTETS);
      // Room for the ROC the tag is computed over when the tag is shorter than it (the 32-bit suite).
      const tail = Math.max(send.rtpOverhead, 4);
      for (let i = 0; i < SEND_RING; i++) {
        this.srtpAudioBufs.push(new Uint8Array(RTP_HEADER_SIZE + FRAME_SAMPLES + tail));
        this.srtpEventBufs.push(new Uint8Array(RTP_HEADER_SIZE + 4 + tail));
      }
    }
    const remote = r ? r.remote : options.remote;
    if (remote) this.setRemote(remote.address, remote.port);
    socket.onMessage((msg, address, port, at) => this.receive(msg, address, port, at));
    // A UDP error (e.g. ICMP port unreachable surfaced by the OS) must not crash the process.
    const countError = (): void => {
      this.stats.sendErrors++;
    };
    socket.onError(countError);
    if (rtcpSocket !== null) {
      rtcpSocket.onMessage((msg, address, port, at) => this.receiveRtcp(msg, address, port, false, at));
      rtcpSocket.onError(countError);
    }
  }

  /** Binds the RTP (and RTCP) socket (from the range, if given) and returns the leg. */
  static async open(options: RtpLegOptions = {}): Promise<RtpLeg> {
    const r = options.restore;
    const host = r?.host ?? options.host ?? '127.0.0.1';
    const te = options.telephoneEventPayloadType;
    if (te !== undefined && te !== null && (!Number.isInteger(te) || te < 0 || te > 127 || te === G711_PAYLOAD_TYPE[options.codec ?? 'PCMU'])) {
      throw new MediaError('invalid', `bad telephone-event payload type ${te}`);
    }
    // A bad key fails here, before any socket is bound.
    try {
      if (options.srtp) checkSrtpKey(options.srtp.local);
      if (options.srtp?.remote) checkSrtpKey(options.srtp.remote);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
    const withRtcp = r?.withRtcp ?? options.rtcp ?? true;
    const open = options.openSocket ?? openDgramSocket;
    const pair = r
      ? await bindPairAt(host, r.localPort, withRtcp, open)
      : options.portRange || !options.port
        ? await bindPair(host, options.portRange, withRtcp, open)
        : await bindPairAt(host, options.port, withRtcp, open);
    return new RtpLeg(pair.rtp, pair.rtcp, host, options);
  }

  get codec(): G711Codec {
    return this.audioCodec;
  }

  get payloadType(): number {
    return this.audioPt;
  }

  get localAddress(): string {
    return this.socket.localAddress;
  }

  get localPort(): number {
    return this.socket.localPort;
  }

  /** The RTCP port (RTP port + 1), or null without RTCP. */
  get rtcpPort(): number | null {
    return this.rtcpSocket === null ? null : this.rtcpSocket.localPort;
  }

  get remote(): { address: string; port: number } | null {
    return this.remoteAddress === null ? null : { address: this.remoteAddress, port: this.remotePort };
  }

  setRemote(address: string, port: number): void {
    this.remoteAddress = address;
    this.remotePort = port;
  }

  /** Whether this leg speaks SRTP (it was opened with `srtp`). */
  get secure(): boolean {
    return this.srtpOut !== null;
  }

  /**
   * The peer's SRTP key, from its SDP (an answer to our offer, a re-INVITE). The same key again
   * keeps the receive state (ROC, replay window); a new key starts afresh (RFC 4568 §7.1.4).
   * Throws on a plain RTP leg or a malformed key.
   */
  setRemoteKey(key: SrtpKey): void {
    if (this.srtpOut === null) throw new MediaError('invalid', 'not an SRTP leg');
    if (this.srtpIn !== null && sameKey(this.srtpIn.key, key)) return;
    try {
      this.srtpIn = new SrtpContext(key);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
  }

  /**
   * Switches the codec both ways from the next packet; the RTP stream (SSRC, sequence numbers,
   * timestamps) and the jitter buffer carry on, as the clock rate is the same 8 kHz.
   */
  setCodec(codec: G711Codec): void {
    if (!Object.hasOwn(G711_PAYLOAD_TYPE, codec)) throw new MediaError('invalid', `unknown codec ${String(codec)}`);
    if (G711_PAYLOAD_TYPE[codec] === this.telephoneEventPayloadType) throw new MediaError('invalid', `codec ${codec} collides with the telephone-event payload type`);
    this.audioCodec = codec;
    this.audioPt = G711_PAYLOAD_TYPE[codec];
    this.decodeTable = codec === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
    this.encodeTable = codec === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
  }

  /**
   * What the peer's SDP (an answer to our offer, a re-INVITE) says about RFC 4733: its
   * telephone-event payload type, or null when it takes none — then keys go to it as tones and
   * its own keys are listened for in-band.
   */
  setTelephoneEvent(pt: number | null): void {
    if (pt === this.telephoneEventPayloadType) return;
    if (pt !== null && (!Number.isInteger(pt) || pt < 0 || pt > 127 || pt === this.audioPt)) throw new MediaError('invalid', `bad telephone-event payload type ${pt}`);
    this.telephoneEventPayloadType = pt;
    this.detector = pt === null ? new DtmfDetector() : null;
  }

  /** Receiver figures for LegStats (RFC 3550 A.3 loss, A.8 jitter, the peer's last SR). */
  receiverFigures(): ReceiverFigures {
    return this.rtcp.figures(wallNow());
  }

  /**
   * The next decoded frame for the mixer (see JitterBuffer.pop). Where the peer sends no
   * telephone-events, its keypad digits can only be in the audio: the frame goes through the
   * in-band detector first, in playout order (dtmf-detector.ts).
   */
  pop(): Int16Array | null {
    const frame = this.jitterBuffer.pop();
    if (this.detector !== null) {
      const digit = this.detector.process(frame);
      if (digit !== null && this.onDtmf !== null) this.onDtmf(digit);
    }
    return frame;
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

  /** The RTP timestamp of the next packet: where a telephone-event that starts now begins. */
  get nextTimestamp(): number {
    return this.timestamp;
  }

  /**
   * Sends one RFC 4733 telephone-event packet in this frame's place (§2.5.1.1: events replace
   * the audio while a key is down): the negotiated payload type, this stream's SSRC and next
   * sequence number, the timestamp of the event's start (`eventStart`, from `nextTimestamp`
   * at its first packet) and, in the payload (§2.3), the event code, the E bit, volume 10
   * (−10 dBm0) and the duration so far in samples. The stream's clock still moves a frame on,
   * so the audio after the event carries the timestamp it would have had.
   */
  sendEvent(code: number, eventStart: number, duration: number, end: boolean, marker: boolean): void {
    const pt = this.telephoneEventPayloadType;
    if (pt === null) throw new MediaError('invalid', 'the peer did not negotiate telephone-event');
    const buf = this.eventBufs[this.sendIndex]!;
    this.sendIndex = (this.sendIndex + 1) % SEND_RING;
    writeRtpHeader(buf, marker, pt, this.seq, eventStart, this.ssrc);
    buf[RTP_HEADER_SIZE] = code;
    buf[RTP_HEADER_SIZE + 1] = (end ? 0x80 : 0) | EVENT_VOLUME;
    buf[RTP_HEADER_SIZE + 2] = (duration >>> 8) & 0xff;
    buf[RTP_HEADER_SIZE + 3] = duration & 0xff;
    this.emit(buf, 4);
  }

  /** The stream as plain data (call before `close`, to re-open it elsewhere). */
  snapshot(): RtpLegState {
    return {
      host: this.host,
      localPort: this.localPort,
      withRtcp: this.rtcpSocket !== null,
      codec: this.audioCodec,
      telephoneEventPayloadType: this.telephoneEventPayloadType,
      ssrc: this.ssrc,
      seq: this.seq,
      timestamp: this.timestamp,
      firstSend: this.firstSend,
      remote: this.remote,
      rtcpRemote: this.rtcpRemote,
      seqShift: this.seqShift,
      shiftSsrc: this.shiftSsrc,
      lastEventTs: this.lastEventTs,
      stats: { ...this.stats },
      rtcp: structuredClone(this.rtcp.s),
      rtcpIntervalMs: this.rtcpIntervalMs,
      srtp: this.srtpOut === null ? null : { send: this.srtpOut.snapshot(), receive: this.srtpIn === null ? null : this.srtpIn.snapshot() },
    };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const sockets = this.rtcpSocket === null ? [this.socket] : [this.socket, this.rtcpSocket];
    return Promise.all(sockets.map((s) => s.close())).then(() => undefined);
  }

  private nextSendBuffer(): Uint8Array {
    const buf = this.sendBufs[this.sendIndex]!;
    this.sendIndex = (this.sendIndex + 1) % SEND_RING;
    return buf;
  }

  private transmit(buf: Uint8Array): void {
    // The marker bit flags the first packet of the stream (RFC 3551 §4.1, start of talkspurt).
    writeRtpHeader(buf, this.firstSend, this.audioPt, this.seq, this.timestamp, this.ssrc);
    this.emit(buf, FRAME_SAMPLES);
  }

  /** One packet whose header is written: the stream's clock moves a frame on, and it goes out. */
  private emit(buf: Uint8Array, payloadOctets: number): void {
    this.firstSend = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    if (this.remoteAddress === null || this.closed) return; // nowhere to send yet; the clock still advances
    this.socket.send(this.srtpOut === null ? buf : this.protect(this.srtpOut, buf, payloadOctets), this.remotePort, this.remoteAddress);
    this.stats.packetsSent++;
    this.rtcp.onSent(payloadOctets);
    if (this.rtcp.reportDue()) this.sendReport();
  }

  /** §6.4.1: a compound SR + SDES about our stream, to the peer's RTCP address. */
  private sendReport(): void {
    const muxed = this.rtcp.s.mux;
    const socket = muxed ? this.socket : this.rtcpSocket;
    if (socket === null || this.remoteAddress === null) return;
    const to = muxed ? { address: this.remoteAddress, port: this.remotePort } : (this.rtcpRemote ?? { address: this.remoteAddress, port: this.remotePort + 1 });
    const now = wallNow();
    const report = this.rtcp.buildReport(this.ssrc, this.timestamp, now, now);
    if (this.srtpOut === null) {
      socket.send(report, to.port, to.address);
      return;
    }
    // Once per ~5 s: a new buffer is fine here.
    const srtcp = new Uint8Array(report.length + this.srtpOut.rtcpOverhead);
    socket.send(srtcp.subarray(0, this.srtpOut.protectRtcp(report, report.length, srtcp)), to.port, to.address);
  }

  /** The packet protected with our key, in the SRTP ring buffer of its exact length. */
  private protect(context: SrtpContext, buf: Uint8Array, payloadOctets: number): Uint8Array {
    const ring = payloadOctets === FRAME_SAMPLES ? this.srtpAudioBufs : this.srtpEventBufs;
    const out = ring[this.srtpIndex]!;
    this.srtpIndex = (this.srtpIndex + 1) % SEND_RING;
    const length = context.protectRtp(buf, buf.length, out);
    // The buffers hold room for the ROC past a 32-bit tag; only the packet goes out.
    return length === out.length ? out : out.subarray(0, length);
  }

  /** The plain packet of an SRTP or SRTCP datagram in the scratch buffer, or null (counted) when it fails. */
  private unprotect(msg: Uint8Array, rtcp: boolean): Uint8Array | null {
    const scratch = this.srtpScratch!;
    if (msg.length > scratch.length) {
      this.stats.malformed++;
      return null;
    }
    if (this.srtpIn === null) {
      this.stats.srtpAuthFailures++; // no key to check it with yet
      return null;
    }
    const n = rtcp ? this.srtpIn.unprotectRtcp(msg, msg.length, scratch) : this.srtpIn.unprotectRtp(msg, msg.length, scratch);
    if (n >= 0) return scratch.subarray(0, n);
    if (n === SRTP_REPLAYED) this.stats.srtpReplays++;
    else if (n === SRTP_AUTH_FAILED) this.stats.srtpAuthFailures++;
    else this.stats.malformed++;
    return null;
  }

  private receiveRtcp(datagram: Uint8Array, address: string, port: number, muxed: boolean, arrivedAt: number): void {
    this.stats.rtcpReceived++;
    const msg = this.srtpOut === null ? datagram : this.unprotect(datagram, true);
    if (msg === null) return;
    const parsed = parseRtcp(msg);
    if (parsed === null) {
      this.rtcp.s.malformed++;
      return;
    }
    if (!muxed) this.rtcpRemote = { address, port };
    this.rtcp.onRtcp(parsed, this.ssrc, arrivedAt, muxed);
  }

  private receive(datagram: Uint8Array, address: string, port: number, arrivedAt: number): void {
    // SRTCP keeps the RTCP header in the clear (RFC 3711 §3.4), so muxing is told apart the same way.
    if (isMuxedRtcp(datagram)) {
      this.receiveRtcp(datagram, address, port, true, arrivedAt);
      return;
    }
    const msg = this.srtpOut === null ? datagram : this.unprotect(datagram, false);
    if (msg === null) return;
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
    this.rtcp.onRtp(v.sequenceNumber, v.timestamp, v.ssrc, arrivedAt);
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

function sameKey(a: SrtpKey, b: SrtpKey): boolean {
  return a.suite === b.suite && Buffer.from(a.masterKey).equals(b.masterKey) && Buffer.from(a.masterSalt).equals(b.masterSalt);
}

function randomUint32(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
