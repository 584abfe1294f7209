/**
 * The media capacity bench's load generator, a child process of bench/media-capacity.ts (so its
 * CPU competes with the media plane on the same 2 cores, as sipp did against Asterisk).
 *
 * For each participant it sends one 172-byte RTP packet (12-byte header + 160 bytes PCMU) every
 * 20 ms on 127.0.0.1, all participants in one burst per tick, paced by a drift-free timer
 * (bench/loadgen-timing.ts: absolute deadlines; a late tick sends the frames it owes, at most 5).
 * Talkers send a tone with a syllable-like envelope and pauses; everyone else sends low-level
 * noise. It receives the mix, counts packets per leg and records inter-arrival gaps.
 *
 * Its sockets are the media plane's own batched UDP (src/media/rtp/udp-batch.ts), so the
 * generator costs what sipp would, not a JS callback per packet: all of a tick's packets leave
 * in one call and arrivals are read once per tick. Gaps are measured between the KERNEL arrival
 * times of a leg's packets (SO_TIMESTAMPNS), so they show when the media plane's packets really
 * arrived, not when this busy process got round to reading them.
 */
import { performance } from 'node:perf_hooks';
import { encodeMulaw } from '../src/media/codec/g711.js';
import { nativeUdp, nativeUdpError } from '../src/media/rtp/native-udp.js';
import type { RtpSocket } from '../src/media/rtp/rtp-socket.js';
import { UdpBatch } from '../src/media/rtp/udp-batch.js';
import { FramePacer, GapHistogram, INTERVAL_MS } from './loadgen-timing.js';
import type { GenOpen, GenReply, GenReport, GenRequest } from './media-ipc.js';

const PACKET = 172;
/** A talker's pattern: 150 frames (3 s), ~2 s of modulated tone, ~1 s of near-silence. */
const TALK_FRAMES = 150;
const NOISE_FRAMES = 64;

interface Leg {
  socket: RtpSocket;
  target: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  frames: Uint8Array[];
  frame: number;
  // Window counters.
  rx: number;
  first: number;
  last: number;
  lastAt: number;
}

const send = (m: GenReply): void => {
  process.send?.(m);
};

if (nativeUdp === null) throw new Error(`the load generator needs the native UDP module: ${nativeUdpError}`);
const udp = new UdpBatch(nativeUdp);
/** argv[2] > 0: run under SCHED_FIFO at that priority (media-capacity.ts --gen-realtime). */
const realtime = Number(process.argv[2] ?? 0);
if (realtime > 0 && nativeUdp.setRealtime(realtime) !== 0) throw new Error(`the load generator could not get SCHED_FIFO ${realtime}`);
let legs: Leg[] = [];
let sockets: RtpSocket[] = [];
let sentTotal = 0;
let sentAtMark = 0;
let measuring = false;
let markAt = 0;
let markCpu: NodeJS.CpuUsage = process.cpuUsage();
const hist = new GapHistogram();
const byPortOf = new Map<RtpSocket, Map<number, Leg>>();
/** One datagram's bytes, reused: the batch copies what it queues. */
const packet = new Uint8Array(PACKET);
const packetView = new DataView(packet.buffer);
const toneCache = new Map<number, Uint8Array[]>();

function noiseFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pcm = new Int16Array(160);
  for (let f = 0; f < NOISE_FRAMES; f++) {
    for (let i = 0; i < 160; i++) pcm[i] = Math.round((Math.random() - 0.5) * 40);
    const enc = new Uint8Array(160);
    encodeMulaw(pcm, enc);
    out.push(enc);
  }
  return out;
}
const NOISE = noiseFrames();

function toneFrames(hz: number): Uint8Array[] {
  const cached = toneCache.get(hz);
  if (cached) return cached;
  const out: Uint8Array[] = [];
  const pcm = new Int16Array(160);
  for (let f = 0; f < TALK_FRAMES; f++) {
    for (let i = 0; i < 160; i++) {
      const t = (f * 160 + i) / 8000;
      // Talk for 2 s of every 3, with a 4 Hz syllable envelope; pauses are low noise.
      const talking = t < 2;
      const env = talking ? 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t) : 0;
      const voice = env * 9000 * (Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(2 * Math.PI * 2.5 * hz * t));
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(voice + (Math.random() - 0.5) * 40)));
    }
    const enc = new Uint8Array(160);
    encodeMulaw(pcm, enc);
    out.push(enc);
  }
  toneCache.set(hz, out);
  return out;
}

function onPacket(byPort: Map<number, Leg>, msg: Uint8Array, port: number, now: number): void {
  const leg = byPort.get(port);
  if (leg === undefined || msg.length !== PACKET || (msg[0]! & 0xc0) !== 0x80) return;
  if (measuring) {
    if (leg.rx === 0) leg.first = now;
    else hist.add(now - leg.lastAt);
    leg.rx++;
    leg.last = now;
  }
  leg.lastAt = now;
}

async function open(req: GenOpen): Promise<number[]> {
  const ports: number[] = [];
  const perSocket = Math.max(1, req.legsPerSocket);
  for (let i = 0; i < req.voices.length; i += perSocket) {
    const socket = await udp.open('127.0.0.1', 0);
    const byPort = new Map<number, Leg>();
    socket.onMessage((msg, _address, port, at) => onPacket(byPort, msg, port, at));
    socket.onError(() => undefined);
    byPortOf.set(socket, byPort);
    sockets.push(socket);
    const port = socket.localPort;
    for (let j = i; j < Math.min(i + perSocket, req.voices.length); j++) {
      const hz = req.voices[j]!;
      legs.push({
        socket,
        target: 0,
        seq: (Math.random() * 0x10000) & 0xffff,
        timestamp: (Math.random() * 0x100000000) >>> 0,
        ssrc: (Math.random() * 0x100000000) >>> 0,
        frames: hz > 0 ? toneFrames(hz) : NOISE,
        frame: Math.floor(Math.random() * (hz > 0 ? TALK_FRAMES : NOISE_FRAMES)),
        rx: 0,
        first: 0,
        last: 0,
        lastAt: 0,
      });
      ports.push(port);
    }
  }
  return ports;
}

function sendAll(): void {
  const buf = packet;
  const view = packetView;
  for (let i = 0; i < legs.length; i++) {
    const leg = legs[i]!;
    buf[0] = 0x80;
    buf[1] = 0; // PT 0 = PCMU
    view.setUint16(2, leg.seq);
    view.setUint32(4, leg.timestamp);
    view.setUint32(8, leg.ssrc);
    buf.set(leg.frames[leg.frame]!, 12);
    leg.frame = (leg.frame + 1) % leg.frames.length;
    leg.seq = (leg.seq + 1) & 0xffff;
    leg.timestamp = (leg.timestamp + 160) >>> 0;
    leg.socket.send(buf, leg.target, '127.0.0.1');
    sentTotal++;
  }
  udp.flush();
}

/** Reads what arrived first on every tick (one batch per tick), then sends what is due. */
const pacer = new FramePacer(sendAll, () => udp.receive());

function start(targets: number[]): void {
  for (let i = 0; i < legs.length; i++) {
    const leg = legs[i]!;
    leg.target = targets[i]!;
    byPortOf.get(leg.socket)!.set(leg.target, leg);
  }
  sentTotal = 0;
  pacer.start();
}

function mark(): void {
  for (const leg of legs) {
    leg.rx = 0;
    leg.first = 0;
    leg.last = 0;
  }
  hist.reset();
  pacer.mark();
  markAt = performance.now();
  sentAtMark = sentTotal;
  markCpu = process.cpuUsage();
  measuring = true;
}

function stop(): GenReport {
  const end = performance.now();
  const cpu = process.cpuUsage(markCpu);
  measuring = false;
  pacer.stop();
  pacer.endWindow();
  const windowMs = end - markAt;
  let received = 0;
  let expected = 0;
  let silentLegs = 0;
  for (const leg of legs) {
    received += leg.rx;
    if (leg.rx === 0) {
      silentLegs++;
      expected += Math.round(windowMs / INTERVAL_MS);
    } else {
      expected += Math.round((leg.last - leg.first) / INTERVAL_MS) + 1;
    }
  }
  return {
    type: 'report',
    windowMs,
    received,
    expected,
    silentLegs,
    gapP50Ms: hist.percentile(0.5),
    gapP999Ms: hist.percentile(0.999),
    gapMaxMs: hist.maxMs(),
    sentTotal,
    sentWindow: sentTotal - sentAtMark,
    genTicks: pacer.ticks,
    genLateTicks: pacer.lateTicks,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
  };
}

async function close(): Promise<void> {
  pacer.stop();
  measuring = false;
  await Promise.all(sockets.map((s) => s.close()));
  byPortOf.clear();
  sockets = [];
  legs = [];
}

process.on('message', (m: GenRequest) => {
  void (async () => {
    switch (m.type) {
      case 'open':
        send({ type: 'opened', ports: await open(m) });
        break;
      case 'start':
        start(m.targets);
        send({ type: 'started' });
        break;
      case 'mark':
        mark();
        send({ type: 'marked' });
        break;
      case 'stop':
        send(stop());
        break;
      case 'close':
        await close();
        send({ type: 'closed' });
        break;
    }
  })();
});
process.on('disconnect', () => {
  void close().then(() => process.exit(0));
});
