/**
 * The WebRTC capacity bench's load generator, a child process of bench/webrtc-capacity.ts (its
 * CPU competes with Conclave on the same cores, as bench/media-loadgen.ts's does). Each
 * simulated browser is a werift RTCPeerConnection — the library family the media plane uses —
 * with one audio transceiver: ICE (it is the controlling agent against Conclave's ICE-lite),
 * DTLS-SRTP, rtcp-mux, BUNDLE, and one codec offered (Opus 48 kHz PT 111 as browsers, or PCMU
 * alone), so the server's choice is the run's.
 *
 * Sending: one 20 ms frame per peer per tick, all peers in one burst, on media-loadgen.ts's
 * drift-free timer (bench/loadgen-timing.ts), written to
 * the peer's track (werift then SRTP-protects it in JavaScript and sends it). Talkers send
 * bench/media-loadgen.ts's voice — a tone with a syllable envelope, 2 s of every 3 — encoded
 * once per run (Opus by src/media/codec/opus.ts, as a browser's encoder would produce
 * per frame), everyone else near-silent noise.
 *
 * Receiving: every packet its DTLS transport decrypts counted per peer (arrival gaps as this process saw them — JS time, not
 * kernel time as media-loadgen.ts has it — and lost sequence numbers); a listening peer (one per
 * room) also decodes what it gets and asks, frame by frame, whether one of its room's talkers'
 * tones is in it (Goertzel).
 *
 * werift-ice always asks a STUN server for a server-reflexive candidate and falls back to
 * stun.l.google.com when given none, waiting 5 s for it to answer; this process runs a one-line
 * STUN responder on 127.0.0.1 instead (RFC 5389 §7.3.1: Binding success with XOR-MAPPED-ADDRESS),
 * so gathering completes at once and nothing leaves the machine.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { decodeMulaw, encodeMulaw } from '../src/media/codec/g711.js';
import { OPUS_TICKS_PER_FRAME, OpusFrameDecoder, OpusFrameEncoder } from '../src/media/codec/opus.js';
import { nativeUdp } from '../src/media/rtp/native-udp.js';
import { goertzel } from '../test/media/goertzel.js';
import { FramePacer, GapHistogram, INTERVAL_MS } from './loadgen-timing.js';
import type { PeerSpec, WebRtcBenchCodec, WGenReply, WGenReport, WGenRequest } from './webrtc-ipc.js';

/** A talker's pattern: 150 frames (3 s), ~2 s of modulated tone, ~1 s of near-silence (media-loadgen.ts's). */
const TALK_FRAMES = 150;
const NOISE_FRAMES = 64;
/** A frame carries a tone when its Goertzel amplitude is above this (a talker at full level gives ~4,000–9,000). */
const TONE_LEVEL = 1000;
/** A listener heard its room when this share of its window's frames carried one of the talkers' tones. */
const HEARD_SHARE = 0.2;
/** A gap this long means at least one frame came late or not at all. */
const LATE_GAP_MS = 40;

interface Peer {
  pc: RTCPeerConnection;
  track: MediaStreamTrack;
  spec: PeerSpec;
  frames: Buffer[];
  frame: number;
  seq: number;
  timestamp: number;
  /** Its offer/answer exchange is complete. */
  answered: boolean;
  connected: boolean;
  failed: boolean;
  connectedAt: number;
  decoder: OpusFrameDecoder | null;
  // Window counters.
  rx: number;
  firstAt: number;
  lastAt: number;
  prevAt: number;
  firstSeq: number;
  maxSeq: number;
  toneFrames: number;
  frames_: number;
  undecodable: number;
}

const send = (m: WGenReply): void => {
  process.send?.(m);
};

/** argv[2] > 0: run under SCHED_FIFO at that priority (webrtc-capacity.ts --gen-realtime), as media-loadgen.ts. */
const realtime = Number(process.argv[2] ?? 0);
if (realtime > 0 && nativeUdp?.setRealtime(realtime) !== 0) throw new Error(`the WebRTC load generator could not get SCHED_FIFO ${realtime}`);

// ---------------------------------------------------------------------------------------------
// The STUN responder werift's gathering asks (see the header).

const stun = dgram.createSocket('udp4');
stun.on('message', (msg, rinfo) => {
  // A Binding request (0x0001) with the magic cookie; the answer echoes its transaction ID.
  if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== 0x2112a442) return;
  const res = Buffer.alloc(32);
  res.writeUInt16BE(0x0101, 0);
  res.writeUInt16BE(12, 2);
  msg.copy(res, 4, 4, 20);
  res.writeUInt16BE(0x0020, 20); // XOR-MAPPED-ADDRESS
  res.writeUInt16BE(8, 22);
  res.writeUInt16BE(0x0001, 24); // IPv4
  res.writeUInt16BE(rinfo.port ^ 0x2112, 26);
  const octets = rinfo.address.split('.').map(Number);
  res.writeUInt32BE((((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) ^ 0x2112a442) >>> 0, 28);
  stun.send(res, rinfo.port, rinfo.address);
});
const stunPort = await new Promise<number>((resolve) => stun.bind(0, '127.0.0.1', () => resolve(stun.address().port)));
stun.unref();

// ---------------------------------------------------------------------------------------------
// Audio: each voice encoded once.

function codecParameters(codec: WebRtcBenchCodec): RTCRtpCodecParameters {
  return codec === 'opus'
    ? new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' })
    : new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 });
}

/** media-loadgen.ts's talker: 2 s of a tone (and its 2.5× harmonic) with a 4 Hz envelope, 1 s of low noise. */
function voicePcm(hz: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let f = 0; f < (hz > 0 ? TALK_FRAMES : NOISE_FRAMES); f++) {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) {
      const t = (f * 160 + i) / 8000;
      const env = hz > 0 && t < 2 ? 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t) : 0;
      const voice = env * 9000 * (Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(2 * Math.PI * 2.5 * hz * t));
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(voice + (Math.random() - 0.5) * 40)));
    }
    out.push(pcm);
  }
  return out;
}

const frameCache = new Map<string, Buffer[]>();

function framesOf(codec: WebRtcBenchCodec, hz: number): Buffer[] {
  const key = `${codec}:${hz}`;
  const cached = frameCache.get(key);
  if (cached) return cached;
  let frames: Buffer[];
  if (codec === 'opus') {
    const encoder = new OpusFrameEncoder();
    frames = voicePcm(hz).map((pcm) => Buffer.from(encoder.encode(pcm)));
    encoder.close();
  } else {
    frames = voicePcm(hz).map((pcm) => {
      const out = Buffer.alloc(160);
      encodeMulaw(pcm, out);
      return out;
    });
  }
  frameCache.set(key, frames);
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Peers.

let codec: WebRtcBenchCodec = 'opus';
let peers: Peer[] = [];
let sentTotal = 0;
let sentAtMark = 0;
let measuring = false;
let markAt = 0;
let markCpu: NodeJS.CpuUsage = process.cpuUsage();
let lateGaps = 0;
let gaps = 0;
let appliedAt = 0;
const hist = new GapHistogram();
const pcmOut = new Int16Array(160);

function newPeer(spec: PeerSpec): Peer {
  const pc = new RTCPeerConnection({
    iceServers: [{ urls: `stun:127.0.0.1:${stunPort}` }],
    codecs: { audio: [codecParameters(codec)] },
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    // Conclave's one host candidate is on loopback: pairs from other interfaces would only add checks.
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendrecv' });
  const peer: Peer = {
    pc,
    track,
    spec,
    frames: framesOf(codec, spec.voice),
    frame: 0,
    seq: (Math.random() * 0x10000) & 0xffff,
    timestamp: (Math.random() * 0x100000000) >>> 0,
    answered: false,
    connected: false,
    failed: false,
    connectedAt: 0,
    decoder: spec.hear !== null && codec === 'opus' ? new OpusFrameDecoder() : null,
    rx: 0,
    firstAt: 0,
    lastAt: 0,
    prevAt: 0,
    firstSeq: -1,
    maxSeq: -1,
    toneFrames: 0,
    frames_: 0,
    undecodable: 0,
  };
  peer.frame = Math.floor(Math.random() * peer.frames.length);
  pc.connectionStateChange.subscribe((state) => {
    if (state === 'connected' && !peer.connected) {
      peer.connected = true;
      peer.connectedAt = performance.now();
    } else if (state === 'failed') peer.failed = true;
  });
  return peer;
}

/**
 * Counts what the peer's DTLS transport decrypts, whatever its SSRC. werift routes received RTP
 * to a track only by an SSRC (or rid) the remote SDP signalled (a=ssrc, RFC 5576) and drops
 * the rest; Conclave's answer signals none — browsers take an unsignalled SSRC on a lone audio
 * m-line — so the bench listens below werift's router. Called once the local description made
 * the transport.
 */
function listenToTransport(peer: Peer): void {
  const transport = peer.pc.getTransceivers()[0]?.dtlsTransport;
  if (!transport) throw new Error('the peer has no DTLS transport after its local description');
  transport.onRtp.subscribe((rtp) => onRtp(peer, rtp));
  if (process.env.WGEN_DEBUG === '1') {
    const t0 = performance.now();
    const id = peers.indexOf(peer);
    const at = (): string => (performance.now() - t0).toFixed(0);
    peer.pc.iceConnectionStateChange.subscribe((s) => console.error(`peer ${id} ice ${s} at ${at()} ms`));
    transport.onStateChange.subscribe((s) => console.error(`peer ${id} dtls ${s} at ${at()} ms`));
  }
}

function onRtp(peer: Peer, rtp: RtpPacket): void {
  const now = performance.now();
  if (measuring) {
    if (peer.rx === 0) {
      peer.firstAt = now;
      peer.firstSeq = rtp.header.sequenceNumber;
      peer.maxSeq = peer.firstSeq;
    } else {
      const gap = now - peer.prevAt;
      hist.add(gap);
      gaps++;
      if (gap > LATE_GAP_MS) lateGaps++;
      // Extend the 16-bit sequence number across wraps, relative to the highest so far.
      const delta = ((rtp.header.sequenceNumber - (peer.maxSeq & 0xffff) + 0x8000) & 0xffff) - 0x8000;
      if (delta > 0) peer.maxSeq += delta;
    }
    peer.rx++;
    peer.lastAt = now;
    if (peer.spec.hear !== null) listen(peer, rtp.payload);
  }
  peer.prevAt = now;
}

function listen(peer: Peer, payload: Buffer): void {
  peer.frames_++;
  if (peer.decoder !== null) {
    if (!peer.decoder.decode(payload, pcmOut)) {
      peer.undecodable++;
      return;
    }
  } else if (payload.length === 160) decodeMulaw(payload, pcmOut);
  else {
    peer.undecodable++;
    return;
  }
  for (const hz of peer.spec.hear!) {
    if (goertzel(pcmOut, hz) > TONE_LEVEL) {
      peer.toneFrames++;
      return;
    }
  }
}

async function offer(specs: PeerSpec[]): Promise<string[]> {
  const made = specs.map(newPeer);
  peers.push(...made);
  return Promise.all(
    made.map(async (peer) => {
      await peer.pc.setLocalDescription(await peer.pc.createOffer());
      listenToTransport(peer);
      return peer.pc.localDescription!.sdp;
    }),
  );
}

async function answer(specs: PeerSpec[], offers: string[]): Promise<string[]> {
  const made = specs.map(newPeer);
  peers.push(...made);
  for (const p of made) p.answered = true;
  if (appliedAt === 0) appliedAt = performance.now();
  return Promise.all(
    made.map(async (peer, i) => {
      await peer.pc.setRemoteDescription({ type: 'offer', sdp: offers[i]! });
      await peer.pc.setLocalDescription(await peer.pc.createAnswer());
      listenToTransport(peer);
      return peer.pc.localDescription!.sdp;
    }),
  );
}

/** Applies the answers to the peers still waiting for one (the last `offer`'s), in order. */
async function accept(answers: string[]): Promise<void> {
  const waiting = peers.filter((p) => !p.answered);
  if (answers.length !== waiting.length) throw new Error(`${answers.length} answers for ${waiting.length} peers waiting for one`);
  if (appliedAt === 0) appliedAt = performance.now();
  for (const p of waiting) p.answered = true;
  await Promise.all(waiting.map((peer, i) => peer.pc.setRemoteDescription({ type: 'answer', sdp: answers[i]! })));
}

async function awaitConnected(timeoutMs: number): Promise<{ connected: number; failed: number; ms: number }> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end && peers.some((p) => !p.connected && !p.failed)) await new Promise((r) => setTimeout(r, 50));
  const connected = peers.filter((p) => p.connected);
  return {
    connected: connected.length,
    failed: peers.length - connected.length,
    ms: connected.length === 0 ? 0 : Math.max(...connected.map((p) => p.connectedAt)) - appliedAt,
  };
}

function sendAll(): void {
  const ticks = codec === 'opus' ? OPUS_TICKS_PER_FRAME : 160;
  for (const peer of peers) {
    if (!peer.connected) continue;
    const header = new RtpHeader({ sequenceNumber: peer.seq, timestamp: peer.timestamp, payloadType: codec === 'opus' ? 111 : 0, marker: false });
    peer.track.writeRtp(new RtpPacket(header, peer.frames[peer.frame]!));
    peer.frame = (peer.frame + 1) % peer.frames.length;
    peer.seq = (peer.seq + 1) & 0xffff;
    peer.timestamp = (peer.timestamp + ticks) >>> 0;
    sentTotal++;
  }
}

const pacer = new FramePacer(sendAll);

function start(): void {
  sentTotal = 0;
  pacer.start();
}

function mark(): void {
  for (const peer of peers) {
    peer.rx = 0;
    peer.toneFrames = 0;
    peer.frames_ = 0;
    peer.undecodable = 0;
  }
  hist.reset();
  gaps = 0;
  lateGaps = 0;
  pacer.mark();
  markAt = performance.now();
  sentAtMark = sentTotal;
  markCpu = process.cpuUsage();
  measuring = true;
}

function report(): WGenReport {
  const end = performance.now();
  const cpu = process.cpuUsage(markCpu);
  measuring = false;
  pacer.endWindow();
  const windowMs = end - markAt;
  let received = 0;
  let expected = 0;
  let seqLost = 0;
  let silentPeers = 0;
  let listeners = 0;
  let heard = 0;
  let toneShare = 0;
  let undecodable = 0;
  for (const peer of peers) {
    received += peer.rx;
    if (peer.rx === 0) {
      silentPeers++;
      expected += Math.round(windowMs / INTERVAL_MS);
    } else {
      expected += Math.round((peer.lastAt - peer.firstAt) / INTERVAL_MS) + 1;
      seqLost += Math.max(0, peer.maxSeq - peer.firstSeq + 1 - peer.rx);
    }
    if (peer.spec.hear !== null) {
      listeners++;
      const share = peer.frames_ > 0 ? peer.toneFrames / peer.frames_ : 0;
      toneShare += share;
      if (share >= HEARD_SHARE) heard++;
      undecodable += peer.undecodable;
    }
  }
  return {
    type: 'report',
    peers: peers.length,
    windowMs,
    received,
    expected,
    seqLost,
    silentPeers,
    gapP50Ms: hist.percentile(0.5),
    gapP999Ms: hist.percentile(0.999),
    gapMaxMs: hist.maxMs(),
    lateGapShare: gaps > 0 ? lateGaps / gaps : 0,
    sentWindow: sentTotal - sentAtMark,
    sentTotal,
    listeners,
    heard,
    toneShare: listeners > 0 ? toneShare / listeners : 0,
    undecodable,
    genTicks: pacer.ticks,
    genLateTicks: pacer.lateTicks,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
}

async function close(): Promise<void> {
  pacer.stop();
  measuring = false;
  const closing = peers;
  peers = [];
  appliedAt = 0;
  await Promise.all(closing.map((p) => p.pc.close().catch(() => undefined)));
  for (const p of closing) p.decoder?.close();
}

async function handle(m: WGenRequest): Promise<WGenReply> {
  switch (m.type) {
    case 'offer':
      codec = m.codec;
      return { type: 'offers', sdps: await offer(m.peers) };
    case 'answer':
      codec = m.codec;
      return { type: 'answers', sdps: await answer(m.peers, m.offers) };
    case 'accept':
      await accept(m.answers);
      return { type: 'accepted' };
    case 'await':
      return { type: 'connected', ...(await awaitConnected(m.timeoutMs)) };
    case 'start':
      start();
      return { type: 'started' };
    case 'mark':
      mark();
      return { type: 'marked' };
    case 'stop':
      return report();
    case 'close':
      await close();
      return { type: 'closed' };
  }
}

process.on('message', (m: WGenRequest) => {
  handle(m).then(send, (error: unknown) => send({ type: 'error', request: m.type, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
process.on('disconnect', () => {
  void close().then(() => process.exit(0));
});
