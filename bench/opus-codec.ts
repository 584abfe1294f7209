/**
 * What Opus (src/media/codec/opus.ts, issue 16) costs per 20 ms frame beside G.711, in one run:
 *
 * 1. G.711 μ-law table encode and decode of 160 samples (src/media/codec/g711.ts);
 * 2. OpusFrameEncoder.encode of 160 samples at 8 kHz (narrowband SILK), at the complexity we
 *    use (5) and others, and OpusFrameDecoder.decode of its packets and of packets like a
 *    browser's (48 kHz mono, 32 kbit/s, complexity 9: fullband/hybrid, decoded to 8 kHz);
 * 3. for the 8 kHz vs 16 kHz mixing question: the same encoder settings fed 16 kHz (320
 *    samples, wideband SILK) and 48 kHz (960 samples), and decoding to 16 kHz; the signal is the
 *    speech-like test voice, upsampled for the higher rates (the encoder's cost follows its mode
 *    and rate more than the content).
 *
 * Scenarios alternate within each run; figures are the thread's CPU time (process.cpuUsage), medians
 * over runs with the fastest run beside them (on a shared machine the fastest is the nearer to
 * the codec's own cost). Input is speech-like, not
 * a tone, since SILK's cost depends on the signal (a steady tone is cheaper than voice).
 *
 *   npx tsx bench/opus-codec.ts [--frames 5000] [--runs 7]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import opus from '@discordjs/opus';
import { decodeMulaw, encodeMulaw } from '../src/media/codec/g711.js';
import { OpusFrameDecoder, OpusFrameEncoder } from '../src/media/codec/opus.js';
import { speechLike } from '../test/media/speech-like.js';
import { machine } from './report.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const FRAMES = option('frames', 5000);
const RUNS = option('runs', 7);
const SECONDS = 10;

/** The same libopus settings as OpusFrameEncoder, at another input rate (raw binding). */
function rawEncoder(rate: number, complexity: number, bitrate = 24_000, application = 2048): opus.OpusEncoder {
  const e = new opus.OpusEncoder(rate, 1);
  e.applyEncoderCTL(4000, application);
  e.applyEncoderCTL(4012, 1);
  e.applyEncoderCTL(4014, 10);
  e.applyEncoderCTL(4010, complexity);
  e.setBitrate(bitrate);
  return e;
}

/** `pcm` (8 kHz) linearly interpolated to `factor`× the rate. */
function upsample(pcm: Int16Array, factor: number): Int16Array {
  const out = new Int16Array(pcm.length * factor);
  for (let i = 0; i < pcm.length; i++) {
    const a = pcm[i]!;
    const b = pcm[i + 1] ?? a;
    for (let k = 0; k < factor; k++) out[i * factor + k] = Math.round(a + ((b - a) * k) / factor);
  }
  return out;
}

/** Frames of `samples` samples cut from `pcm`, as Buffers the binding takes. */
function framesOf(pcm: Int16Array, samples: number): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at + samples <= pcm.length; at += samples) frames.push(Buffer.from(pcm.slice(at, at + samples).buffer));
  return frames;
}

const voice8k = speechLike(SECONDS);
const frames8k: Int16Array[] = [];
for (let at = 0; at + 160 <= voice8k.length; at += 160) frames8k.push(voice8k.subarray(at, at + 160));
const frames16k = framesOf(upsample(voice8k, 2), 320);
const frames48k = framesOf(upsample(voice8k, 6), 960);

/** Packets of `frames` through a fresh encoder (copies: the binding's own Buffers). */
function packetsOf(encode: (i: number) => Uint8Array, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(Uint8Array.from(encode(i)));
  return out;
}

const ourPackets = ((): Uint8Array[] => {
  const e = new OpusFrameEncoder();
  return packetsOf((i) => e.encode(frames8k[i]!), frames8k.length);
})();
const browserPackets = ((): Uint8Array[] => {
  const e = rawEncoder(48_000, 9, 32_000);
  return packetsOf((i) => e.encode(frames48k[i]!), frames48k.length);
})();
const widePackets = ((): Uint8Array[] => {
  const e = rawEncoder(16_000, 5);
  return packetsOf((i) => e.encode(frames16k[i]!), frames16k.length);
})();

/**
 * CPU ns per call of `step(i)` over FRAMES calls (i cycles through the signal). CPU time, not
 * wall time: on a shared machine the thread is descheduled often, which wall time would count.
 */
function time(step: (i: number) => void, period: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < FRAMES; i++) step(i % period);
  const used = process.cpuUsage(t0);
  return ((used.user + used.system) * 1e3) / FRAMES;
}

interface Scenario {
  name: string;
  /** Set up afresh per run (a codec's state carries over between frames, as in a call). */
  run(): number;
}

const pcmOut = new Int16Array(160);
const g711 = new Uint8Array(160);
const n8 = frames8k.length;

const scenarios: Scenario[] = [
  { name: 'G.711 μ-law encode (table)', run: () => time((i) => encodeMulaw(frames8k[i]!, g711), n8) },
  { name: 'G.711 μ-law decode (table)', run: () => time((i) => decodeMulaw(g711.fill(i & 0xff), pcmOut), n8) },
  ...[5, 0, 3, 9, 10].map((c) => ({
    name: `Opus encode 8 kHz, complexity ${c}${c === 5 ? ' (ours)' : c === 9 ? ' (libopus default)' : ''}`,
    run: () => {
      const e = new OpusFrameEncoder({ complexity: c });
      const ns = time((i) => e.encode(frames8k[i]!), n8);
      e.close();
      return ns;
    },
  })),
  ...[true, false].flatMap((native) => {
    const via = native ? 'native' : 'binding';
    return [
      {
        name: `Opus decode to 8 kHz, our packets (NB), ${via}`,
        run: (): number => {
          const d = new OpusFrameDecoder({ native });
          return time((i) => d.decode(ourPackets[i]!, pcmOut), ourPackets.length);
        },
      },
      {
        name: `Opus decode to 8 kHz, a browser's packets (48 kHz, 32 kbit/s), ${via}`,
        run: (): number => {
          const d = new OpusFrameDecoder({ native });
          return time((i) => d.decode(browserPackets[i]!, pcmOut), browserPackets.length);
        },
      },
      {
        name: `Opus conceal one frame, ${native ? "libopus's PLC" : 'repeat halved'}`,
        run: (): number => {
          const d = new OpusFrameDecoder({ native });
          // Every other frame lost, so each concealment starts from a decoded frame; only the
          // conceal calls are timed (wall time: a CPU-time read per call would cost more than a repeat).
          let spent = 0;
          for (let i = 0; i < FRAMES; i++) {
            const p = i % ourPackets.length;
            if (i % 2 === 0) {
              d.decode(ourPackets[p]!, pcmOut);
            } else {
              const t0 = performance.now();
              d.conceal(pcmOut);
              spent += performance.now() - t0;
            }
          }
          return (spent * 1e6) / (FRAMES / 2);
        },
      },
    ];
  }),
  {
    name: "Opus recover (FEC) from a packet of ours, native",
    run: () => {
      const d = new OpusFrameDecoder();
      return time((i) => d.recover(ourPackets[i]!, pcmOut), ourPackets.length);
    },
  },
  {
    name: 'Wideband: Opus encode 16 kHz, complexity 5',
    run: () => {
      const e = rawEncoder(16_000, 5);
      return time((i) => e.encode(frames16k[i]!), frames16k.length);
    },
  },
  {
    name: 'Fullband: Opus encode 48 kHz, complexity 5',
    run: () => {
      const e = rawEncoder(48_000, 5);
      return time((i) => e.encode(frames48k[i]!), frames48k.length);
    },
  },
  {
    name: 'Wideband: Opus decode to 16 kHz, 16 kHz packets',
    run: () => {
      const d = new opus.OpusEncoder(16_000, 1);
      const bufs = widePackets.map((p) => Buffer.from(p));
      return time((i) => d.decode(bufs[i]!), bufs.length);
    },
  },
  {
    name: "Wideband: Opus decode to 16 kHz, a browser's packets",
    run: () => {
      const d = new opus.OpusEncoder(16_000, 1);
      const bufs = browserPackets.map((p) => Buffer.from(p));
      return time((i) => d.decode(bufs[i]!), bufs.length);
    },
  },
];

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const mean = (xs: Uint8Array[]): number => xs.reduce((n, p) => n + p.length, 0) / xs.length;

function main(): void {
  console.log(`${machine()}; ${new Date().toISOString()}; ${FRAMES} frames × ${RUNS} runs, speech-like voice; load average ${os.loadavg()[0]!.toFixed(1)}`);
  // Warm-up: one run of each, not counted (JIT, libopus's first-call tables).
  for (const s of scenarios) s.run();
  const ns = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const s of order) ns.get(s.name)!.push(s.run());
  }
  const g711Encode = median(ns.get(scenarios[0]!.name)!);
  console.log('\n| Per 20 ms frame | µs (median) | µs (fastest run) | × G.711 encode | % of a core per stream |');
  console.log('|---|---:|---:|---:|---:|');
  for (const s of scenarios) {
    const m = median(ns.get(s.name)!);
    const fastest = Math.min(...ns.get(s.name)!);
    console.log(`| ${s.name} | ${(m / 1000).toFixed(2)} | ${(fastest / 1000).toFixed(2)} | ${(m / g711Encode).toFixed(0)} | ${((m / 20e6) * 100).toFixed(3)} % |`);
  }
  const enc8 = median(ns.get('Opus encode 8 kHz, complexity 5 (ours)')!);
  const enc16 = median(ns.get('Wideband: Opus encode 16 kHz, complexity 5')!);
  const dec8 = median(ns.get("Opus decode to 8 kHz, a browser's packets (48 kHz, 32 kbit/s), native")!);
  const dec16 = median(ns.get("Wideband: Opus decode to 16 kHz, a browser's packets")!);
  console.log(`\nWideband vs 8 kHz: encode ${(enc16 / enc8).toFixed(2)}×, decode of a browser's packet ${(dec16 / dec8).toFixed(2)}×`);
  console.log(
    `Packets: ours ${mean(ourPackets).toFixed(1)} octets (${((mean(ourPackets) * 8) / 20).toFixed(1)} kbit/s), ` +
      `16 kHz ${mean(widePackets).toFixed(1)} octets, browser-like ${mean(browserPackets).toFixed(1)} octets`,
  );
  // What the binding allocates: a fresh Buffer per call, never ours.
  const e = new OpusFrameEncoder();
  const a = e.encode(frames8k[0]!);
  const b = e.encode(frames8k[1]!);
  console.log(`Allocation: encode returns a new Buffer each call (${a.buffer !== b.buffer}), ${a.byteLength} octets here; decode through the binding a new 320-octet Buffer, through the native module none`);
  console.log('\nruns (ns):', JSON.stringify(Object.fromEntries([...ns].map(([k, v]) => [k, v.map((x) => Math.round(x))]))));
}

main();
