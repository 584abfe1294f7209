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
 *   remote address, reach the jitter buffer or the RTCP figures. RTCP goes as SRTCP both ways;
 * - WebRTC (`options.webrtc`, webrtc-transport.ts): one socket, RTP and RTCP multiplexed (RFC
 *   5761). Datagrams are told apart by their first octet (RFC 7983 §7): 128–191 are SRTP/SRTCP
 *   for this leg, anything else (STUN, DTLS) goes to the transport — one null check on the path
 *   of a plain leg. Until DTLS is connected and the peer's certificate verified the leg has no
 *   remote address and no keys, so it sends nothing and accepts no media; then the transport
 *   hands over the SRTP keys (from the DTLS exporter) and the ICE-validated address;
 * - Opus (`codec: 'opus'`, RFC 7587): the negotiated payload type, a 48 kHz RTP clock (960
 *   ticks per 20 ms frame; telephone-events at 48 kHz too), packets of any length. What arrives
 *   is decoded to 8 kHz as it arrives (the decoder is stateful: in arrival order), and the jitter
 *   buffer and RTCP figures see timestamps divided down to 8 kHz (they wrap after 24.8 hours of
 *   a stream, which the jitter buffer takes as one resync). Exactly one frame missing before
 *   the packet that arrived: its in-band FEC is asked for the lost frame (`recover`); a loss it
 *   cannot recover is concealed at playout by the jitter buffer, which repeats the last frame
 *   attenuated — what OpusFrameDecoder.conceal() would do, without guessing at arrival that a
 *   late packet is lost. What we send is encoded with the leg's own encoder (`send`), or is the
 *   room's shared Opus packet (`sendPayload`, engine-room.ts).
 */
import { ALAW_DECODE, ALAW_ENCODE, ALAW_SILENCE, MULAW_DECODE, MULAW_ENCODE, MULAW_SILENCE } from '../codec/g711.js';
import { JitterBuffer } from '../jitter-buffer.js';
import { isMuxedRtcp, parseRtcp } from './rtcp-packet.js';
import { RtcpSession } from './rtcp-session.js';
import type { ReceiverFigures } from './rtcp-session.js';
import { G711_PAYLOAD_TYPE } from './rtp-leg-types.js';
import type { RtpLegOptions, RtpLegState, RtpLegStats } from './rtp-leg-types.js';
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
import { OPUS_TICKS_PER_FRAME, OpusFrameDecoder, OpusFrameEncoder } from '../codec/opus.js';
import type { AudioCodecName, WebRtcLegParams } from '../protocol.js';
import { WebRtcTransport } from './webrtc-transport.js';
import type { WebRtcEvents } from './webrtc-transport.js';

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
/** RFC 6716 §3.2.1: the largest Opus packet of one frame. */
const OPUS_MAX_PACKET = 1275;
/** Opus timestamps (48 kHz) to the 8 kHz of the jitter buffer and RTCP figures. */
const OPUS_TO_8K = OPUS_TICKS_PER_FRAME / FRAME_SAMPLES;
const SILENCE = new Int16Array(FRAME_SAMPLES);

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
  /** A WebRTC leg's DTLS handshake failed (webrtc-transport.ts): the engine closes the leg. */
  onFailed: ((reason: string) => void) | null = null;

  /** Change only with setCodec (the SDP answer picked another codec than the offer's first). */
  private audioCodec: AudioCodecName;
  private audioPt: number;
  /** RTP timestamp ticks per 20 ms frame: 160 (G.711, 8 kHz) or 960 (Opus, 48 kHz). */
  private ticksPerFrame: number;
  /** Opus legs: our private encoder, the decoder of what arrives, and the last sequence number decoded. */
  private opusEncoder: OpusFrameEncoder | null = null;
  private opusDecoder: OpusFrameDecoder | null = null;
  private opusLastSeq = -1;
  /** Opus packets going out (variable length), rotating like the G.711 buffers. */
  private readonly varBufs: Uint8Array[] = [];
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
  /** The leg speaks SRTP only (SDES keys, or WebRTC's from DTLS), never plain RTP. */
  private readonly srtpOnly: boolean;
  /** WebRTC legs: ICE-lite and DTLS (null on other legs: the one check on their receive path). */
  private readonly webrtc: WebRtcTransport | null = null;
  /** SRTP: protects what we send (our key); null on a plain RTP leg, and on a WebRTC leg until DTLS gave the keys. */
  private srtpOut: SrtpContext | null = null;
  /** SRTP: unprotects what the peer sends (its key); null until its key is known. */
  private srtpIn: SrtpContext | null = null;
  /** SRTP send rings: 20 ms audio and RFC 4733 events, each at its exact protected length. */
  private readonly srtpAudioBufs: Uint8Array[] = [];
  private readonly srtpEventBufs: Uint8Array[] = [];
  private readonly srtpVarBufs: Uint8Array[] = [];
  private srtpIndex = 0;
  private srtpScratch: Uint8Array | null = null;

  private constructor(socket: RtpSocket, rtcpSocket: RtpSocket | null, host: string, options: RtpLegOptions) {
    const r = options.restore;
    this.socket = socket;
    this.rtcpSocket = rtcpSocket;
    this.host = host;
    this.audioCodec = r?.codec ?? options.codec ?? 'PCMU';
    this.audioPt = r ? r.payloadType : payloadTypeOf(this.audioCodec, options.payloadType);
    this.ticksPerFrame = this.audioCodec === 'opus' ? OPUS_TICKS_PER_FRAME : FRAME_SAMPLES;
    this.telephoneEventPayloadType = r ? r.telephoneEventPayloadType : (options.telephoneEventPayloadType ?? null);
    this.detector = this.telephoneEventPayloadType === null ? new DtmfDetector() : null;
    this.decodeTable = this.audioCodec === 'PCMA' ? ALAW_DECODE : MULAW_DECODE;
    this.encodeTable = this.audioCodec === 'PCMA' ? ALAW_ENCODE : MULAW_ENCODE;
    if (this.audioCodec === 'opus') this.openOpus();
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
    const webrtc = r ? r.webrtc : (options.webrtc ?? null);
    const srtp = r ? r.srtp : options.srtp && !webrtc ? { send: options.srtp.local, receive: options.srtp.remote ?? null } : null;
    this.srtpOnly = srtp !== null || webrtc !== null;
    if (this.srtpOnly) this.srtpScratch = new Uint8Array(SRTP_SCRATCH_OCTETS);
    if (srtp) {
      const send = 'suite' in srtp.send ? new SrtpContext(srtp.send) : new SrtpContext(srtp.send.key, srtp.send);
      this.keySrtp(send, srtp.receive === null ? null : 'suite' in srtp.receive ? new SrtpContext(srtp.receive) : new SrtpContext(srtp.receive.key, srtp.receive));
    }
    if (webrtc !== null) {
      // RTCP rides on the RTP port from the start (RFC 5761; a=rtcp-mux is required by RFC 8829 §5.1.3).
      this.rtcp.s.mux = true;
      this.webrtc = r ? new WebRtcTransport(null, options.dtlsCertificate!, socket, this.webrtcEvents(), r.webrtc!) : new WebRtcTransport(options.webrtc!, options.dtlsCertificate!, socket, this.webrtcEvents());
    }
    // A WebRTC leg's remote is ICE's, set when DTLS is connected (restored: the latched one).
    const remote = r ? r.remote : webrtc !== null ? null : options.remote;
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
    // A bad key, payload type or WebRTC parameter fails here, before any socket is bound.
    let pt = -1;
    try {
      if (!r) pt = payloadTypeOf(options.codec ?? 'PCMU', options.payloadType);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
    const te = options.telephoneEventPayloadType;
    if (te !== undefined && te !== null && (!Number.isInteger(te) || te < 0 || te > 127 || te === pt)) {
      throw new MediaError('invalid', `bad telephone-event payload type ${te}`);
    }
    try {
      if (options.srtp && !options.webrtc) checkSrtpKey(options.srtp.local);
      if (options.srtp?.remote && !options.webrtc) checkSrtpKey(options.srtp.remote);
      if (options.webrtc && !r) WebRtcTransport.check(options.webrtc, options.dtlsCertificate);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
    if (options.webrtc || r?.webrtc) {
      if (!options.dtlsCertificate) throw new MediaError('invalid', 'no DTLS certificate: the media engine was started without one');
      await WebRtcTransport.load();
    }
    const withRtcp = options.webrtc ? false : (r?.withRtcp ?? options.rtcp ?? true);
    const open = options.openSocket ?? openDgramSocket;
    const pair = r
      ? await bindPairAt(host, r.localPort, withRtcp, open)
      : options.portRange || !options.port
        ? await bindPair(host, options.portRange, withRtcp, open)
        : await bindPairAt(host, options.port, withRtcp, open);
    return new RtpLeg(pair.rtp, pair.rtcp, host, options);
  }

  get codec(): AudioCodecName {
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

  /** Whether this leg speaks SRTP (it was opened with `srtp`, or is a WebRTC leg). */
  get secure(): boolean {
    return this.srtpOnly;
  }

  /** Whether this is a WebRTC leg (its remote address is ICE's: `setRemote` from SDP does not apply). */
  get isWebRtc(): boolean {
    return this.webrtc !== null;
  }

  /** A WebRTC leg: what the peer's SDP says (its answer to our offer, a new offer). */
  updateWebRtc(p: Partial<Pick<WebRtcLegParams, 'remoteIce' | 'remoteFingerprint' | 'dtlsRole'>>): void {
    if (this.webrtc === null) throw new MediaError('invalid', 'not a WebRTC leg');
    try {
      WebRtcTransport.checkUpdate(p);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
    this.webrtc.update(p);
  }

  /**
   * Resolves when a WebRTC leg's DTLS handshake is over (connected or failed; at once for other
   * legs, and for one whose handshake has not started): werift-dtls's state cannot move with a
   * leg to another worker, its outcome can. Bounded by the handshake's 10 s deadline.
   */
  handshakeSettled(): Promise<void> {
    return this.webrtc === null ? Promise.resolve() : this.webrtc.settled();
  }

  /**
   * The peer's SRTP key, from its SDP (an answer to our offer, a re-INVITE). The same key again
   * keeps the receive state (ROC, replay window); a new key starts afresh (RFC 4568 §7.1.4).
   * Throws on a plain RTP leg or a malformed key.
   */
  setRemoteKey(key: SrtpKey): void {
    if (this.srtpOut === null || this.webrtc !== null) throw new MediaError('invalid', this.webrtc !== null ? 'a WebRTC leg is keyed by DTLS' : 'not an SRTP leg');
    if (this.srtpIn !== null && sameKey(this.srtpIn.key, key)) return;
    try {
      this.srtpIn = new SrtpContext(key);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
  }

  /**
   * Switches the codec both ways from the next packet (`payloadType`: opus's negotiated one;
   * G.711's static one when absent). The RTP stream (SSRC, sequence numbers) carries on; between
   * G.711 and Opus the clock rate changes, and the jitter buffer starts afresh.
   */
  setCodec(codec: AudioCodecName, payloadType?: number): void {
    let pt: number;
    try {
      pt = payloadTypeOf(codec, payloadType);
    } catch (error) {
      throw new MediaError('invalid', (error as Error).message);
    }
    if (pt === this.telephoneEventPayloadType) throw new MediaError('invalid', `codec ${codec} collides with the telephone-event payload type`);
    const wasOpus = this.audioCodec === 'opus';
    this.audioCodec = codec;
    this.audioPt = pt;
    this.ticksPerFrame = codec === 'opus' ? OPUS_TICKS_PER_FRAME : FRAME_SAMPLES;
    this.decodeTable = codec === 'PCMA' ? ALAW_DECODE : MULAW_DECODE;
    this.encodeTable = codec === 'PCMA' ? ALAW_ENCODE : MULAW_ENCODE;
    if (wasOpus !== (codec === 'opus')) {
      this.jitterBuffer.reset();
      if (codec === 'opus') this.openOpus();
      else this.closeOpus();
    }
  }

  /**
   * What the peer's SDP (an answer to our offer, a re-INVITE) says about RFC 4733: its
   * telephone-event payload type, or null when it takes none — then keys go to it as tones and
   * its own keys are listened for in-band.
   */
  setTelephoneEvent(pt: number | null): void {
    // (RFC 4733 events of an Opus leg run at its 48 kHz clock: sendEvent scales the duration.)
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
    if (this.opusEncoder !== null) {
      this.sendVariable(this.opusEncoder.encode(frame ?? SILENCE));
      return;
    }
    const buf = this.nextSendBuffer();
    const table = this.encodeTable;
    if (frame === null) {
      buf.fill(this.audioCodec === 'PCMU' ? MULAW_SILENCE : ALAW_SILENCE, RTP_HEADER_SIZE);
    } else {
      for (let i = 0; i < FRAME_SAMPLES; i++) buf[RTP_HEADER_SIZE + i] = table[frame[i]! & 0xffff]!;
    }
    this.transmit(buf);
  }

  /** Sends a frame already encoded with this leg's codec (a shared mix encoded once): G.711's 160 octets, an Opus packet of any length. */
  sendPayload(payload: Uint8Array): void {
    if (this.audioCodec === 'opus') {
      this.sendVariable(payload);
      return;
    }
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
    // Keypad durations are 8 kHz samples; an Opus stream's events run at its 48 kHz clock.
    const ticks = Math.min(0xffff, (duration * this.ticksPerFrame) / FRAME_SAMPLES);
    buf[RTP_HEADER_SIZE + 2] = (ticks >>> 8) & 0xff;
    buf[RTP_HEADER_SIZE + 3] = ticks & 0xff;
    this.emit(buf, 4);
  }

  /** The stream as plain data (call before `close`, to re-open it elsewhere). */
  snapshot(): RtpLegState {
    return {
      host: this.host,
      localPort: this.localPort,
      withRtcp: this.rtcpSocket !== null,
      codec: this.audioCodec,
      payloadType: this.audioPt,
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
      webrtc: this.webrtc === null ? null : this.webrtc.snapshot(),
    };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.webrtc?.close();
    this.closeOpus();
    const sockets = this.rtcpSocket === null ? [this.socket] : [this.socket, this.rtcpSocket];
    return Promise.all(sockets.map((s) => s.close())).then(() => undefined);
  }

  private nextSendBuffer(): Uint8Array {
    const buf = this.sendBufs[this.sendIndex]!;
    this.sendIndex = (this.sendIndex + 1) % SEND_RING;
    return buf;
  }

  /** One packet of any payload length (Opus): its own ring of buffers, sent as a view of its length. */
  private sendVariable(payload: Uint8Array): void {
    const n = Math.min(payload.length, OPUS_MAX_PACKET);
    if (this.varBufs.length === 0) for (let i = 0; i < SEND_RING; i++) this.varBufs.push(new Uint8Array(RTP_HEADER_SIZE + OPUS_MAX_PACKET));
    const buf = this.varBufs[this.sendIndex]!;
    this.sendIndex = (this.sendIndex + 1) % SEND_RING;
    buf.set(n === payload.length ? payload : payload.subarray(0, n), RTP_HEADER_SIZE);
    writeRtpHeader(buf, this.firstSend, this.audioPt, this.seq, this.timestamp, this.ssrc);
    this.emit(buf.subarray(0, RTP_HEADER_SIZE + n), n);
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
    this.timestamp = (this.timestamp + this.ticksPerFrame) >>> 0;
    if (this.remoteAddress === null || this.closed) return; // nowhere to send yet; the clock still advances
    this.socket.send(this.srtpOut === null ? buf : this.protect(this.srtpOut, buf), this.remotePort, this.remoteAddress);
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
  private protect(context: SrtpContext, buf: Uint8Array): Uint8Array {
    // By length, whatever the codec: a G.711 frame, an RFC 4733 event, else an Opus packet.
    const ring = buf.length === RTP_HEADER_SIZE + FRAME_SAMPLES ? this.srtpAudioBufs : buf.length === RTP_HEADER_SIZE + 4 ? this.srtpEventBufs : this.srtpVarBufs;
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
    const msg = this.srtpOnly ? this.unprotect(datagram, true) : datagram;
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
    // RFC 7983 §7: on a WebRTC leg only 128–191 is (S)RTP/(S)RTCP; STUN and DTLS go to the transport.
    if (this.webrtc !== null && (datagram.length === 0 || datagram[0]! < 128 || datagram[0]! > 191)) {
      this.webrtc.receive(datagram, address, port);
      return;
    }
    // SRTCP keeps the RTCP header in the clear (RFC 3711 §3.4), so muxing is told apart the same way.
    if (isMuxedRtcp(datagram)) {
      this.receiveRtcp(datagram, address, port, true, arrivedAt);
      return;
    }
    const msg = this.srtpOnly ? this.unprotect(datagram, false) : datagram;
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
    if (this.opusDecoder !== null) {
      this.receiveOpus(msg, arrivedAt);
      return;
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

  /**
   * An Opus packet (its header in `this.view`), decoded in arrival order: one frame missing just
   * before it is asked of its in-band FEC first (RFC 7587 §3.3); timestamps go on at 8 kHz.
   */
  private receiveOpus(msg: Uint8Array, arrivedAt: number): void {
    const v = this.view;
    const decoder = this.opusDecoder!;
    const ts8k = Math.floor(v.timestamp / OPUS_TO_8K);
    this.rtcp.onRtp(v.sequenceNumber, ts8k, v.ssrc, arrivedAt);
    const payload = msg.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength);
    const seq = (v.sequenceNumber - this.seqShift) & 0xffff;
    const out = this.decoded;
    if (this.opusLastSeq >= 0 && ((seq - this.opusLastSeq) & 0xffff) === 2 && decoder.recover(payload, out)) {
      this.jitterBuffer.push((seq - 1) & 0xffff, (ts8k - FRAME_SAMPLES) >>> 0, v.ssrc, out);
    }
    this.opusLastSeq = seq;
    if (!decoder.decode(payload, out)) {
      this.stats.malformed++;
      return;
    }
    this.jitterBuffer.push(seq, ts8k, v.ssrc, out);
    if (this.onPacket !== null) this.onPacket(v.sequenceNumber);
  }

  /** SRTP contexts, and their send rings (from SDES keys at open, or DTLS's when it connects). */
  private keySrtp(send: SrtpContext, receive: SrtpContext | null): void {
    this.srtpOut = send;
    this.srtpIn = receive;
    if (this.srtpAudioBufs.length > 0) return;
    // Room for the ROC the tag is computed over when the tag is shorter than it (the 32-bit suite).
    const tail = Math.max(send.rtpOverhead, 4);
    for (let i = 0; i < SEND_RING; i++) {
      this.srtpAudioBufs.push(new Uint8Array(RTP_HEADER_SIZE + FRAME_SAMPLES + tail));
      this.srtpEventBufs.push(new Uint8Array(RTP_HEADER_SIZE + 4 + tail));
      this.srtpVarBufs.push(new Uint8Array(RTP_HEADER_SIZE + OPUS_MAX_PACKET + tail));
    }
  }

  /** What the WebRTC transport tells this leg. */
  private webrtcEvents(): WebRtcEvents {
    return {
      connected: (keys, remote) => {
        if (this.closed) return;
        this.keySrtp(new SrtpContext(keys.send), new SrtpContext(keys.receive));
        this.setRemote(remote.address, remote.port);
      },
      remoteMoved: (remote) => this.setRemote(remote.address, remote.port),
      failed: (reason) => {
        if (!this.closed && this.onFailed !== null) this.onFailed(reason);
      },
    };
  }

  private openOpus(): void {
    this.opusEncoder ??= new OpusFrameEncoder();
    this.opusDecoder ??= new OpusFrameDecoder();
    this.opusLastSeq = -1;
  }

  private closeOpus(): void {
    this.opusEncoder?.close();
    this.opusDecoder?.close();
    this.opusEncoder = null;
    this.opusDecoder = null;
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

/**
 * The payload type a leg speaks `codec` with: G.711's static one (RFC 3551 Table 4; an explicit
 * one must be it), or Opus's negotiated dynamic one (RFC 7587 §7: 96–127), which is required.
 */
function payloadTypeOf(codec: AudioCodecName, payloadType: number | undefined): number {
  if (codec === 'opus') {
    if (payloadType === undefined || !Number.isInteger(payloadType) || payloadType < 96 || payloadType > 127) throw new RangeError(`opus needs a dynamic payload type (96–127), not ${String(payloadType)}`);
    return payloadType;
  }
  if (!Object.hasOwn(G711_PAYLOAD_TYPE, codec)) throw new RangeError(`unknown codec ${String(codec)}`);
  const pt = G711_PAYLOAD_TYPE[codec];
  if (payloadType !== undefined && payloadType !== pt) throw new RangeError(`${codec} is payload type ${pt}, not ${payloadType}`);
  return pt;
}

function sameKey(a: SrtpKey, b: SrtpKey): boolean {
  return a.suite === b.suite && Buffer.from(a.masterKey).equals(b.masterKey) && Buffer.from(a.masterSalt).equals(b.masterSalt);
}

function randomUint32(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
