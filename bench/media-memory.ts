/**
 * Media plane memory per participant: RSS of the process (main thread + media workers) and the
 * V8 heap of the media workers, at 0 legs and after adding RTP legs in rooms of 10, with G.711
 * flowing (the capacity bench's load generator, a separate process, sends to every leg and
 * receives the mix, so jitter buffers, send rings and socket buffers are in use).
 *
 *   npx tsx bench/media-memory.ts [--steps 250,500,1000] [--settle 5] [--workers N]
 *
 * Per step: build the rooms and legs, let traffic run `settle` seconds, read RSS and the
 * workers' heap (3 reads 1 s apart, median), tear down. Figures are deltas against the same
 * process with its workers started and no leg. GC is not forced (workers cannot expose it),
 * so the heap figure carries the noise of whatever garbage the young generation holds.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaClient } from '../src/media/media-client.js';
import type { GenReply, GenRequest } from './media-ipc.js';

function args(argv: string[]): { steps: number[]; settleS: number; workers: number | undefined } {
  const o = { steps: [250, 500, 1000], settleS: 5, workers: undefined as number | undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--steps') o.steps = v.split(',').map(Number);
    else if (argv[i] === '--settle') o.settleS = Number(v);
    else if (argv[i] === '--workers') o.workers = Number(v);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

const child = fork(fileURLToPath(new URL('./media-loadgen.ts', import.meta.url)), [], {
  execArgv: ['--import', import.meta.resolve('tsx')],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
function gen<T extends GenReply['type']>(msg: GenRequest, reply: T): Promise<Extract<GenReply, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: GenReply): void => {
      if (m.type !== reply) return;
      child.off('message', on);
      resolve(m as Extract<GenReply, { type: T }>);
    };
    child.on('message', on);
    child.send(msg);
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function sample(client: MediaClient): Promise<{ rss: number; heap: number }> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await client.request('stats', {});
    rss.push(process.memoryUsage().rss);
    heap.push((s.workers ?? []).reduce((a, w) => a + w.heapUsed, 0));
    await sleep(1000);
  }
  return { rss: median(rss), heap: median(heap) };
}

async function main(): Promise<void> {
  const o = args(process.argv.slice(2));
  const client = new MediaClient({ rtpTimeoutMs: 0, requestTimeoutMs: 30_000, ...(o.workers ? { workers: o.workers } : {}) });
  console.log(`# media memory: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${client.workerCount} media worker(s)`);
  await client.request('stats', {});
  await sleep(o.settleS * 1000);
  const base = await sample(client);
  const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
  console.log(`0 legs: RSS ${mb(base.rss)} MB, media heap ${mb(base.heap)} MB`);
  console.log('| Legs | RSS | RSS delta per leg | Media workers heap | Heap delta per leg |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const n of o.steps) {
    const { ports } = await gen({ type: 'open', voices: Array.from({ length: n }, (_, i) => (i % 10 < 2 ? 300 + 110 * (i % 10) : 0)), legsPerSocket: 1 }, 'opened');
    const targets: number[] = [];
    for (let r = 0; r * 10 < n; r++) {
      await client.request('createRoom', { roomId: `m${r}` });
      const legs = await Promise.all(
        Array.from({ length: Math.min(10, n - r * 10) }, (_, k) =>
          client.request('addLeg', { roomId: `m${r}`, legId: `M${r * 10 + k}`, kind: 'rtp', codec: 'PCMU', remote: { address: '127.0.0.1', port: ports[r * 10 + k]! } }),
        ),
      );
      for (const l of legs) targets.push(l.localPort!);
    }
    await gen({ type: 'start', targets }, 'started');
    await sleep(o.settleS * 1000);
    const m = await sample(client);
    await gen({ type: 'stop' }, 'report');
    console.log(`| ${n} | ${mb(m.rss)} MB | ${((m.rss - base.rss) / n / 1024).toFixed(1)} KB | ${mb(m.heap)} MB | ${((m.heap - base.heap) / n / 1024).toFixed(1)} KB |`);
    for (let r = 0; r * 10 < n; r++) await client.request('destroyRoom', { roomId: `m${r}` });
    await gen({ type: 'close' }, 'closed');
  }
  child.disconnect();
  await client.close();
}

await main();
