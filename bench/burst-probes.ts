/**
 * Part of bench/cluster-conference.ts: four probe phones that time how long a caller's voice
 * takes to reach a listener. Two talkers are silent but for a 60 ms tone burst every 200 ms
 * (talker A 1850 Hz, talker B 2650 Hz, half a cycle apart); two listeners send silence. The
 * sockets are the media plane's batched UDP (src/media/rtp/udp-batch.ts), so each frame heard
 * carries its kernel arrival time (SO_TIMESTAMPNS), and a burst's send is dated at the call that
 * sends it: the delay does not include this process's own event-loop lag.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeMulaw, encodeMulaw } from '../src/media/codec/g711.js';
import { nativeUdp, nativeUdpError } from '../src/media/rtp/native-udp.js';
import type { RtpSocket } from '../src/media/rtp/rtp-socket.js';
import { wallNow } from '../src/media/rtp/rtp-socket.js';
import { UdpBatch } from '../src/media/rtp/udp-batch.js';
import { goertzel } from '../test/media/goertzel.js';

/** Probe bursts: bin-aligned (multiples of 50 Hz for 160 samples), clear of the talkers' harmonics. */
export const BURST_HZ = { A: 1850, B: 2650 } as const;
const BURST_AMPLITUDE = 8000;
export const BURST_FRAMES = 3;
/** One burst per talker every CYCLE frames (200 ms); talker B half a cycle after A. */
const CYCLE = 10;
/** A listener frame with the burst's tone at this Goertzel amplitude or more hears the burst (it arrives at ≈ 8000). */
export const HEARD = 2500;
/** A burst not heard within this long is missed. */
export const HEAR_WITHIN_MS = 500;

interface HeardFrame {
  /** Kernel arrival, epoch ms (the clock of wallNow, corrected by the calibration offset). */
  at: number;
  /** Goertzel amplitude of each burst tone in the frame. */
  a: number;
  b: number;
}

export class Probe {
  target = 0;
  sent = 0;
  readonly heard: HeardFrame[] = [];
  private seq = (Math.random() * 0x10000) & 0xffff;
  private ts = (Math.random() * 0x100000000) >>> 0;
  private readonly ssrc = (Math.random() * 0x100000000) >>> 0;
  private readonly packet = new Uint8Array(172);
  private readonly view = new DataView(this.packet.buffer);
  private readonly pcm = new Int16Array(160);
  recording = false;

  constructor(
    readonly name: string,
    readonly socket: RtpSocket,
    offset: () => number,
  ) {
    socket.onError(() => undefined);
    socket.onMessage((msg, _address, _port, at) => {
      if (!this.recording || msg.length !== 172 || (msg[0]! & 0xc0) !== 0x80 || (msg[1]! & 0x7f) !== 0) return;
      decodeMulaw(msg.subarray(12), this.pcm);
      this.heard.push({ at: at - offset(), a: goertzel(this.pcm, BURST_HZ.A), b: goertzel(this.pcm, BURST_HZ.B) });
    });
  }

  send(payload: Uint8Array): void {
    const p = this.packet;
    const view = this.view;
    p[0] = 0x80;
    p[1] = 0;
    view.setUint16(2, this.seq);
    view.setUint32(4, this.ts);
    view.setUint32(8, this.ssrc);
    p.set(payload, 12);
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 160) >>> 0;
    this.socket.send(p, this.target, '127.0.0.1');
    this.sent++;
  }
}

function burstFrames(hz: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pcm = new Int16Array(160);
  for (let f = 0; f < BURST_FRAMES; f++) {
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(BURST_AMPLITUDE * Math.sin((2 * Math.PI * hz * (f * 160 + i)) / 8000));
    const enc = new Uint8Array(160);
    encodeMulaw(pcm, enc);
    out.push(enc);
  }
  return out;
}

const SILENCE = new Uint8Array(160).fill(0xff);

/** The four probe phones and their 20 ms clock. */
export class Probes {
  readonly talkerA: Probe;
  readonly listenerA: Probe;
  readonly talkerB: Probe;
  readonly listenerB: Probe;
  /** Send time (wallNow) of each burst's first frame, per talker. */
  readonly bursts: { A: number[]; B: number[] } = { A: [], B: [] };
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private frame = 0;
  private next = 0;
  private recording = false;
  private readonly tones = { A: burstFrames(BURST_HZ.A), B: burstFrames(BURST_HZ.B) };

  private constructor(
    private readonly udp: UdpBatch,
    sockets: RtpSocket[],
    /** Kernel arrival minus wallNow at the send, for loopback (calibrated at open). */
    readonly offsetMs: number,
  ) {
    const offset = (): number => this.offsetMs;
    [this.talkerA, this.listenerA, this.talkerB, this.listenerB] = ['talkerA', 'listenerA', 'talkerB', 'listenerB'].map((n, i) => new Probe(n, sockets[i]!, offset)) as [Probe, Probe, Probe, Probe];
  }

  static async open(): Promise<Probes> {
    if (nativeUdp === null) throw new Error(`the probes need the native UDP module: ${nativeUdpError}`);
    const udp = new UdpBatch(nativeUdp);
    const sockets = await Promise.all([0, 1, 2, 3].map(() => udp.open('127.0.0.1', 0)));
    return new Probes(udp, sockets, await calibrate(udp));
  }

  get all(): Probe[] {
    return [this.talkerA, this.listenerA, this.talkerB, this.listenerB];
  }

  start(): void {
    this.next = performance.now();
    this.poller = setInterval(() => this.udp.receive(), 5);
    this.tick();
  }

  record(on: boolean): void {
    this.recording = on;
    for (const p of this.all) p.recording = on;
    if (on) {
      this.bursts.A.length = 0;
      this.bursts.B.length = 0;
      for (const p of this.all) p.heard.length = 0;
    }
  }

  private tick(): void {
    this.udp.receive();
    const now = performance.now();
    // A late tick sends what it owes (at most 5 frames), as the load generator does.
    for (let owed = 0; this.next <= now && owed < 5; owed++) {
      this.sendFrame();
      this.next += 20;
    }
    if (this.next <= now) this.next += Math.ceil((now - this.next) / 20) * 20;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.next - performance.now()));
  }

  private sendFrame(): void {
    const phase = this.frame++ % CYCLE;
    const half = CYCLE / 2;
    const burstA = phase < BURST_FRAMES;
    const burstB = phase >= half && phase < half + BURST_FRAMES;
    this.talkerA.send(burstA ? this.tones.A[phase]! : SILENCE);
    this.talkerB.send(burstB ? this.tones.B[phase - half]! : SILENCE);
    this.listenerA.send(SILENCE);
    this.listenerB.send(SILENCE);
    const at = wallNow();
    this.udp.flush();
    if (this.recording && phase === 0) this.bursts.A.push(at);
    if (this.recording && phase === half) this.bursts.B.push(at);
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.poller);
  }

  close(): void {
    this.stop();
    this.udp.close();
  }
}

/**
 * The offset between the kernel's arrival stamps (SO_TIMESTAMPNS, CLOCK_REALTIME) and wallNow
 * (performance.timeOrigin + now): the least of 50 loopback sends, each stamped on arrival
 * within the send call.
 */
async function calibrate(udp: UdpBatch): Promise<number> {
  const from = await udp.open('127.0.0.1', 0);
  const to = await udp.open('127.0.0.1', 0);
  let arrived = Number.NaN;
  to.onMessage((_m, _a, _p, at) => (arrived = at));
  const offsets: number[] = [];
  for (let i = 0; i < 50; i++) {
    arrived = Number.NaN;
    const sentAt = wallNow();
    from.send(new Uint8Array(12), to.localPort, '127.0.0.1');
    udp.flush();
    for (let k = 0; k < 100 && Number.isNaN(arrived); k++) {
      udp.receive();
      if (Number.isNaN(arrived)) await sleep(1);
    }
    if (!Number.isNaN(arrived)) offsets.push(arrived - sentAt);
  }
  await from.close();
  await to.close();
  if (offsets.length === 0) throw new Error('calibration: no loopback datagram arrived');
  return Math.min(...offsets);
}

/** The delay of each burst to a listener: its first frame with the tone, or undefined (missed). */
export function delays(bursts: number[], listener: Probe, tone: 'a' | 'b'): (number | undefined)[] {
  const heard = listener.heard;
  let from = 0;
  return bursts.map((sentAt) => {
    while (from < heard.length && heard[from]!.at < sentAt) from++;
    for (let i = from; i < heard.length && heard[i]!.at <= sentAt + HEAR_WITHIN_MS; i++) if (heard[i]![tone] >= HEARD) return heard[i]!.at - sentAt;
    return undefined;
  });
}
