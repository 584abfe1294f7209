/**
 * What recording taps (issue 13, src/media/recording-tap.ts) cost the media thread's tick, alone:
 * one MediaEngine in this thread with 100 rooms of 10 simulated participants (2 talking), ticked
 * as fast as it goes, with no tap, a tap on every room's mix (every conference recorded), and a
 * dual-channel tap on every leg (every call recorded), side by side in alternating runs. The
 * batches go out as the worker sends them (postMessage, which copies them, on a MessageChannel)
 * to another thread that keeps them, as the main thread would: the sending side of the thread
 * hop is in the tick, the receiving side (and its garbage) is not. No sockets:
 * bench/media-capacity.ts --record compare gives the whole picture with RTP; this isolates the
 * tap from its noise.
 *
 *   npx tsx bench/recording-taps.ts [--seconds 20] [--runs 7]
 */
import { once } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { MediaEngine } from '../src/media/media-engine.js';
import { machine } from './report.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const ROOMS = 100;
const SIZE = 10;
const TALKERS = 2;
type Scenario = 'no taps' | 'every room (mono mix)' | 'every leg (dual)';
const SCENARIOS: Scenario[] = ['no taps', 'every room (mono mix)', 'every leg (dual)'];

/**
 * The receiving thread: keeps each batch a while (as a file's write queue would), counts the
 * samples and the time its handler took; answers 'count' with both and zeroes them.
 */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
let samples = 0, ms = 0;
const kept = [];
parentPort.once('message', ({ port }) => {
  port.on('message', (n) => {
    if (n.type !== 'recorded') return;
    const t = performance.now();
    kept.push(n.pcm);
    if (kept.length > 400) kept.length = 0;
    samples += n.pcm.length;
    ms += performance.now() - t;
  });
  parentPort.on('message', () => {
    parentPort.postMessage({ samples, ms });
    samples = 0;
    ms = 0;
  });
});
`;

/** Mean µs per tick (all 100 rooms) over `seconds` of audio, and the batches' receiving time. */
async function run(scenario: Scenario, seconds: number): Promise<{ tickUs: number; receiveUsPerTick: number; samples: number }> {
  const channel = new MessageChannel();
  const receiver = new Worker(RECEIVER, { eval: true });
  receiver.postMessage({ port: channel.port2 }, [channel.port2]);
  const count = async (): Promise<{ samples: number; ms: number }> => {
    receiver.postMessage('count');
    return (await once(receiver, 'message'))[0] as { samples: number; ms: number };
  };
  const engine = new MediaEngine((n) => channel.port1.postMessage(n));
  for (let r = 0; r < ROOMS; r++) {
    const roomId = `r${r}`;
    await engine.request('createRoom', { roomId });
    for (let l = 0; l < SIZE; l++) {
      const legId = `${roomId}-${l}`;
      await engine.request('addLeg', { roomId, legId, kind: 'sim', ...(l < TALKERS ? { tone: { frequencyHz: 300 + 110 * l, amplitude: 6000 } } : {}) });
      if (scenario === 'every leg (dual)') await engine.request('startRecording', { tapId: legId, target: { legId }, channels: 2, track: 'both' });
    }
    if (scenario === 'every room (mono mix)') await engine.request('startRecording', { tapId: roomId, target: { roomId }, channels: 1, track: 'both' });
  }
  // Warm-up: the JIT and the first batches.
  for (let i = 0; i < 200; i++) engine.tick();
  await turn();
  await count();
  const ticks = 50 * seconds;
  let tickMs = 0;
  for (let done = 0; done < ticks; done += 50) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) engine.tick();
    tickMs += performance.now() - t0;
    // Let the other port take the batches, as the main thread does between ticks.
    await turn();
  }
  await engine.close();
  // The batches and the count travel on two ports, in no order between them: count until all came.
  const want = scenario === 'no taps' ? 0 : (ticks * 160 * (scenario === 'every leg (dual)' ? 2 * ROOMS * SIZE : ROOMS)) * 0.98;
  let got = { samples: 0, ms: 0 };
  for (let tries = 0; tries < 100; tries++) {
    const c = await count();
    got = { samples: got.samples + c.samples, ms: got.ms + c.ms };
    if (got.samples >= want) break;
  }
  channel.port1.close();
  await receiver.terminate();
  return { tickUs: (tickMs * 1000) / ticks, receiveUsPerTick: (got.ms * 1000) / ticks, samples: got.samples };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const seconds = option('seconds', 20);
  const runs = option('runs', 7);
  console.log(`# recording taps: ${ROOMS} rooms of ${SIZE} simulated participants (${TALKERS} talking), ${seconds} s of audio a run, ${runs} runs; ${machine()}`);
  const results = new Map<Scenario, { tickUs: number[]; receiveUs: number[]; samples: number[] }>(SCENARIOS.map((s) => [s, { tickUs: [], receiveUs: [], samples: [] }]));
  for (let k = 0; k < runs; k++) {
    // Alternate the order so drift on a shared machine falls on every scenario alike.
    const order = k % 2 === 0 ? SCENARIOS : [...SCENARIOS].reverse();
    for (const scenario of order) {
      const r = await run(scenario, seconds);
      const acc = results.get(scenario)!;
      acc.tickUs.push(r.tickUs);
      acc.receiveUs.push(r.receiveUsPerTick);
      acc.samples.push(r.samples);
      console.log(`run ${k + 1} ${scenario.padEnd(22)} tick ${r.tickUs.toFixed(1)} µs  receiving ${r.receiveUsPerTick.toFixed(2)} µs/tick  audio ${(r.samples / 8000).toFixed(1)} s`);
    }
  }
  const base = median(results.get('no taps')!.tickUs);
  console.log('');
  console.log('| Taps | Mean tick, 1,000 legs (median) | Added per tick | Added per tap per 20 ms frame | Share of one core added | Receiving side (other thread) per tick | Audio handed over per run |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const scenario of SCENARIOS) {
    const r = results.get(scenario)!;
    const tick = median(r.tickUs);
    const taps = scenario === 'no taps' ? 0 : scenario === 'every leg (dual)' ? ROOMS * SIZE : ROOMS;
    const added = tick - base;
    console.log(
      `| ${scenario} | ${tick.toFixed(0)} µs | ${taps ? `${added.toFixed(0)} µs (${((100 * added) / base).toFixed(1)} %)` : ''} | ${taps ? `${((1000 * added) / taps).toFixed(0)} ns` : ''} | ${taps ? `${((100 * added) / 20_000).toFixed(2)} %` : ''} | ${median(r.receiveUs).toFixed(1)} µs | ${(median(r.samples) / 8000).toFixed(0)} s |`,
    );
  }
}

await main();
