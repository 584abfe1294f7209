/**
 * A WebRTC peer for tests and the load generator, standing in for a browser: werift's
 * RTCPeerConnection (a full ICE agent, DTLS client or server, SRTP), one audio transceiver.
 *
 * Flow, as a browser calling Conclave: `WebRtcTestPeer.create()` makes the offer (`offerSdp`;
 * its ICE credentials and fingerprint are also read out for tests that build our answer by
 * hand), `connect(answerSdp)` applies Conclave's answer and waits until ICE and DTLS are
 * connected. Or, as a browser Conclave calls: `answer(offerSdp)` returns the answer and connects.
 * `sendTone(hz)` sends a tone in 20 ms RTP packets (PCMU/PCMA, or Opus encoded at 48 kHz with
 * @discordjs/opus) until `stopSending()`; what arrives is decoded to 8 kHz PCM in `received()`.
 *
 * Loopback: werift leaves 127.0.0.1 out of its candidates unless told, so it is added.
 * No vitest here (bench/ reuses it): waits poll the peer's state with a deadline.
 */
import opus from '@discordjs/opus';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import type { RTCRtpTransceiver } from 'werift';
import { ALAW_DECODE, ALAW_ENCODE, MULAW_DECODE, MULAW_ENCODE } from '../../src/media/codec/g711.js';

export type TestPeerCodec = 'PCMU' | 'PCMA' | 'opus';

export interface WebRtcTestPeerOptions {
  /** The one audio codec offered (default PCMU); Opus as 111, opus/48000/2 as browsers offer it. */
  codec?: TestPeerCodec;
  /** Offered telephone-event payload type (default 101; null: none). */
  telephoneEvent?: number | null;
}

const OPUS_PT = 111;
const RATE_8K = 8000;
const FRAME_8K = 160;
const FRAME_48K = 960;

export class WebRtcTestPeer {
  readonly pc: RTCPeerConnection;
  readonly codec: TestPeerCodec;
  /** What arrived, decoded to 8 kHz PCM, in arrival order (20 ms per packet). */
  private readonly chunks: Int16Array[] = [];
  private readonly track = new MediaStreamTrack({ kind: 'audio' });
  private readonly transceiver: RTCRtpTransceiver;
  private readonly encoder: opus.OpusEncoder | null;
  private readonly decoder: opus.OpusEncoder | null;
  private sender: NodeJS.Timeout | null = null;
  private seq = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff);
  private phase = 0;
  /** Packets received (any payload type) and sent. */
  packetsReceived = 0;
  packetsSent = 0;
  private closed = false;

  private constructor(options: WebRtcTestPeerOptions) {
    this.codec = options.codec ?? 'PCMU';
    const te = options.telephoneEvent === undefined ? 101 : options.telephoneEvent;
    const audio = [
      this.codec === 'opus'
        ? new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS_PT, parameters: 'minptime=10;useinbandfec=1' })
        : new RTCRtpCodecParameters({ mimeType: `audio/${this.codec}`, clockRate: 8000, channels: 1, payloadType: this.codec === 'PCMU' ? 0 : 8 }),
      ...(te === null ? [] : [new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: this.codec === 'opus' ? 48000 : 8000, channels: 1, payloadType: te })]),
    ];
    this.pc = new RTCPeerConnection({ codecs: { audio }, iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] });
    this.encoder = this.codec === 'opus' ? new opus.OpusEncoder(48000, 1) : null;
    this.decoder = this.codec === 'opus' ? new opus.OpusEncoder(48000, 1) : null;
    this.transceiver = this.pc.addTransceiver(this.track, { direction: 'sendrecv' });
    withoutStunFallback(this.pc);
    this.transceiver.onTrack.subscribe((remote) => {
      remote.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
    });
    this.acceptUnsignaledSsrc();
  }

  /**
   * werift routes RTP only by an SSRC (or MID/RID) the remote SDP signalled; Conclave's SDP, like
   * many gateways', carries no a=ssrc, and browsers take the first unsignaled SSRC of a lone
   * audio m-line (Chrome's "unsignaled SSRC" handling). The same here, for the one transceiver.
   */
  private acceptUnsignaledSsrc(): void {
    const router = (this.pc as unknown as { router: WeriftRouter }).router;
    const route = router.routeRtp;
    router.routeRtp = (packet) => {
      const ssrc = packet.header.ssrc;
      if (router.ssrcTable[ssrc] === undefined && this.transceiver.codecs.length > 0) {
        router.registerRtpReceiverBySsrc(this.transceiver, { encodings: [{ ssrc }], codecs: [this.transceiver.codecs[0]], headerExtensions: [] });
      }
      route(packet);
    };
  }

  /** A peer with its offer made (`offerSdp`), its candidates gathered into it. */
  static async create(options: WebRtcTestPeerOptions = {}): Promise<WebRtcTestPeer & { offerSdp: string }> {
    const peer = new WebRtcTestPeer(options);
    await peer.pc.setLocalDescription(await peer.pc.createOffer());
    await peer.gathered();
    return Object.assign(peer, { offerSdp: peer.pc.localDescription!.sdp });
  }

  /** A peer answering `offerSdp` (Conclave calling a browser): its answer, then it connects. */
  static async answering(offerSdp: string, options: WebRtcTestPeerOptions = {}): Promise<{ peer: WebRtcTestPeer; answerSdp: string }> {
    const peer = new WebRtcTestPeer(options);
    await peer.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await peer.pc.setLocalDescription(await peer.pc.createAnswer());
    await peer.gathered();
    return { peer, answerSdp: peer.pc.localDescription!.sdp };
  }

  /** This peer's SDP (offer or answer). */
  get localSdp(): string {
    return this.pc.localDescription?.sdp ?? '';
  }

  /** Its ICE credentials, from its SDP. */
  get ice(): { ufrag: string; pwd: string } {
    return { ufrag: sdpAttribute(this.localSdp, 'ice-ufrag'), pwd: sdpAttribute(this.localSdp, 'ice-pwd') };
  }

  /** Its certificate fingerprint, from its SDP (RFC 8122). */
  get fingerprint(): { algorithm: string; value: string } {
    const [algorithm, value] = sdpAttribute(this.localSdp, 'fingerprint').split(' ');
    return { algorithm: algorithm!, value: value! };
  }

  /** Applies the answer to its offer and waits for ICE and DTLS (`timeoutMs`). */
  async connect(answerSdp: string, timeoutMs = 10_000): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    await this.connected(timeoutMs);
  }

  /** Waits until the peer connection is connected (ICE and DTLS). */
  async connected(timeoutMs = 10_000): Promise<void> {
    await poll(() => this.pc.connectionState === 'connected', timeoutMs, 'the werift peer connected (ICE, DTLS)');
  }

  /** Sends a tone (8 kHz PCM → the codec) every 20 ms until stopSending(); `amplitude` peak. */
  sendTone(hz: number, amplitude = 8000): void {
    this.stopSending();
    let first = true;
    this.sender = setInterval(() => {
      if (this.closed) return;
      const pcm = new Int16Array(this.encoder ? FRAME_48K : FRAME_8K);
      const rate = this.encoder ? 48000 : RATE_8K;
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(amplitude * Math.sin(this.phase + (2 * Math.PI * hz * i) / rate));
      this.phase = (this.phase + (2 * Math.PI * hz * pcm.length) / rate) % (2 * Math.PI);
      this.writeFrame(pcm, first);
      first = false;
    }, 20);
  }

  stopSending(): void {
    if (this.sender !== null) clearInterval(this.sender);
    this.sender = null;
  }

  /** Everything received so far as one 8 kHz PCM array (the last `ms` only, if given). */
  received(ms?: number): Int16Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Int16Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return ms === undefined ? out : out.subarray(Math.max(0, out.length - (ms * RATE_8K) / 1000));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSending();
    await this.pc.close();
  }

  private writeFrame(pcm: Int16Array, marker: boolean): void {
    let payload: Buffer;
    let ticks: number;
    if (this.encoder) {
      payload = this.encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
      ticks = FRAME_48K;
    } else {
      const table = this.codec === 'PCMA' ? ALAW_ENCODE : MULAW_ENCODE;
      payload = Buffer.alloc(FRAME_8K);
      for (let i = 0; i < FRAME_8K; i++) payload[i] = table[pcm[i]! & 0xffff]!;
      ticks = FRAME_8K;
    }
    const header = new RtpHeader({ payloadType: this.codec === 'opus' ? OPUS_PT : this.codec === 'PCMU' ? 0 : 8, sequenceNumber: this.seq, timestamp: this.timestamp, marker });
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + ticks) >>> 0;
    this.track.writeRtp(new RtpPacket(header, payload));
    this.packetsSent++;
  }

  private onRtp(rtp: RtpPacket): void {
    this.packetsReceived++;
    const pt = rtp.header.payloadType;
    if (this.decoder && pt === OPUS_PT) {
      let pcm48: Buffer;
      try {
        pcm48 = this.decoder.decode(rtp.payload);
      } catch {
        return;
      }
      const samples = new Int16Array(pcm48.buffer, pcm48.byteOffset, pcm48.length / 2);
      // Conclave's Opus carries 8 kHz audio: every sixth sample of the 48 kHz output is enough for a tone detector.
      const out = new Int16Array(Math.floor(samples.length / 6));
      for (let i = 0; i < out.length; i++) out[i] = samples[i * 6]!;
      this.chunks.push(out);
    } else if (pt === 0 || pt === 8) {
      const table = pt === 0 ? MULAW_DECODE : ALAW_DECODE;
      const out = new Int16Array(rtp.payload.length);
      for (let i = 0; i < out.length; i++) out[i] = table[rtp.payload[i]!]!;
      this.chunks.push(out);
    }
  }

  /** Resolves once ICE gathering is complete (werift puts the candidates in the local SDP). */
  private async gathered(): Promise<void> {
    await poll(() => this.pc.iceGatheringState === 'complete', 10_000, 'werift ICE gathering complete');
  }
}

/** The parts of werift's (internal) RtpRouter the peer uses. */
interface WeriftRouter {
  ssrcTable: Record<number, unknown>;
  routeRtp: (packet: RtpPacket) => void;
  registerRtpReceiverBySsrc(transceiver: RTCRtpTransceiver, params: { encodings: Array<{ ssrc: number }>; codecs: unknown[]; headerExtensions: unknown[] }): void;
}

function sdpAttribute(sdp: string, name: string): string {
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith(`a=${name}:`));
  if (line === undefined) throw new Error(`no a=${name} in the SDP`);
  return line.slice(name.length + 3).trim();
}

/** Resolves when `check()` holds, polling every 5 ms; rejects after `timeoutMs` naming `what`. */
async function poll(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * werift-ice falls back to Google's STUN server when none is configured, and gathering then
 * waits 5 s for it (no network here): host candidates are all a loopback test needs. Call it
 * after the transceivers are added (each has its ICE transport).
 */
export function withoutStunFallback(pc: RTCPeerConnection): void {
  for (const t of (pc as unknown as { secureManager: { iceTransports: Array<{ connection: { stunServer: unknown } }> } }).secureManager.iceTransports) t.connection.stunServer = undefined;
}
