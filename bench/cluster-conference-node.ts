/**
 * One Conclave node for bench/cluster-conference.ts: what `conclave serve` runs (src/main.ts —
 * configuration from CONCLAVE_* only, `createApp`, `listen`), forked with an IPC channel so
 * that the bench can read the node's media engine figures (late ticks, per-leg packet counts:
 * the `stats` that bench/media-capacity.ts reads in-process). A node has no endpoint for them,
 * which is why the bench does not start `src/main.ts serve` itself (test/helpers/node-process.ts).
 *
 * Messages: → `ready` {baseUrl, sipPort, pid} once listening; `stats` → `stats` {stats};
 * `stop` → closes the app (calls ended, trunks closed), `closed` {clean, ms}, and exits.
 */
import { createApp } from '../src/app.js';
import { resolveOwnerCredentials } from '../src/cli/owner-credentials.js';
import { loadConfig } from '../src/config.js';
import type { EngineStats } from '../src/media/protocol.js';
import { isMessage } from './protocol.js';

export interface NodeReady {
  type: 'ready';
  baseUrl: string;
  sipPort: number;
  pid: number;
}

/** Sent once `app.close()` settled: whether everything closed cleanly, and how long it took. */
export interface NodeClosed {
  type: 'closed';
  clean: boolean;
  ms: number;
}

export interface NodeStatsReply {
  type: 'stats';
  stats: EngineStats;
}

if (!process.send) throw new Error('cluster-conference-node.ts runs as a child of bench/cluster-conference.ts (it needs an IPC channel)');
const send = process.send.bind(process);
const config = loadConfig([]);
const app = await createApp(config, resolveOwnerCredentials(config), { sweepOrphanCalls: true });
const baseUrl = await app.listen();
const ready: NodeReady = { type: 'ready', baseUrl, sipPort: app.sipAddress()!.port, pid: process.pid };
send(ready);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const t0 = performance.now();
  void app
    .close()
    .then(
      (clean) => {
        if (process.connected) send({ type: 'closed', clean, ms: performance.now() - t0 } satisfies NodeClosed);
      },
      () => undefined,
    )
    .finally(() => setImmediate(() => process.exit(0)));
};
process.on('message', (message) => {
  if (isMessage(message, 'stats')) {
    app.media.request('stats', {}).then(
      (stats) => send({ type: 'stats', stats } satisfies NodeStatsReply),
      (error: unknown) => send({ type: 'stats-failed', error: String(error) }),
    );
  } else if (isMessage(message, 'stop')) stop();
});
process.on('SIGTERM', stop);
process.on('disconnect', stop);
