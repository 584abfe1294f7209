/**
 * Two (or more) Conclave nodes as an operator runs them for the cluster benches
 * (`bench/cluster-latency.ts`, `bench/cluster-api.ts`): `conclave serve` child processes
 * (test/helpers/node-process.ts) on one fresh PostgreSQL schema with the same owner account,
 * each on its own HTTP, SIP and RTP ports, logging warnings only (a request log at `info` would
 * cost the API figures a line per request).
 *
 * Also the bench's own LISTEN on the schema's cluster channel (migration 0005): every committed
 * conference event reaches it when it reaches the nodes — the same NOTIFY from the same
 * server — so the bench can date "the event left PostgreSQL" on its own clock, between the
 * REST request and what the listener hears.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { channelsOf } from '../src/store/postgres/notification-listener.js';
import { dropSchema, newSchemaName, nodeDatabaseUrl, startNodeProcess, type NodeProcess } from '../test/helpers/node-process.js';
import { TEST_POSTGRES_URL } from '../test/helpers/stores.js';

const PRELOAD = fileURLToPath(new URL('./cpu-profile-preload.ts', import.meta.url));

export interface Cluster {
  schema: string;
  nodes: NodeProcess[];
  /** Stops every node (SIGTERM, so a profiled node writes its profile) and drops the schema. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  count: number;
  /** Per node (by index): a directory for its CPU profile (cpu-profile-preload.ts), or undefined. */
  profileDirs?: readonly (string | undefined)[];
  /** The first RTP port of the first node; each node takes 4,000 from there (default 40000). */
  firstRtpPort?: number;
  /**
   * CONCLAVE_MEDIA_REALTIME: `auto` (default, as an operator's server runs: SCHED_FIFO media
   * threads where permitted) or `off` (as the tests run them).
   */
  mediaRealtime?: 'auto' | 'off';
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const schema = newSchemaName();
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const nodes: NodeProcess[] = [];
  const rtp = options.firstRtpPort ?? 40000;
  const close = async (): Promise<void> => {
    for (const node of nodes) await node.close();
    await dropSchema(schema);
  };
  try {
    // One after the other, as the interop test starts them: the first creates the schema.
    for (let i = 0; i < options.count; i++) {
      const profileDir = options.profileDirs?.[i];
      if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
      nodes.push(
        await startNodeProcess({
          accountSid,
          authToken,
          env: {
            CONCLAVE_DATABASE: nodeDatabaseUrl(schema),
            CONCLAVE_LOG_LEVEL: 'warn',
            CONCLAVE_MEDIA_REALTIME: options.mediaRealtime ?? 'auto',
            // Phones and simulated legs never time out during a run that pauses between phases.
            CONCLAVE_RTP_TIMEOUT: '0',
            // Disjoint ranges: one machine, several nodes.
            CONCLAVE_RTP_PORTS: `${rtp + i * 4000}-${rtp + i * 4000 + 3999}`,
            // Node refuses --cpu-prof in NODE_OPTIONS: a preload takes the profile instead.
            ...(profileDir ? { NODE_OPTIONS: `--import tsx --import ${PRELOAD}`, BENCH_CPU_PROFILE_DIR: path.resolve(profileDir) } : {}),
          },
        }),
      );
    }
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { schema, nodes, close };
}

/**
 * The code the nodes run: the commit, and how many files under src/ differ from it (the nodes
 * run the working tree, which others may be editing).
 */
export function treeDescription(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
  try {
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter((line) => line !== '').length;
    return `${git('rev-parse', '--short', 'HEAD')}${changed > 0 ? ` with ${changed} uncommitted change(s) under src/` : ', src/ as committed'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** A conference event as the cluster channel carries it, dated on arrival at the bench. */
export interface HeardEvent {
  at: number;
  type: string;
  callSid: string | undefined;
}

export interface ChannelTap {
  readonly events: HeardEvent[];
  /** The first `type` event of `callSid` that arrived at or after `since`. */
  first(type: string, callSid: string, since: number): HeardEvent | undefined;
  close(): Promise<void>;
}

/** LISTENs on the schema's cluster channel from the bench process. */
export async function tapClusterChannel(schema: string): Promise<ChannelTap> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  const events: HeardEvent[] = [];
  client.on('notification', (message) => {
    const at = performance.now();
    if (!message.payload) return;
    const parsed = JSON.parse(message.payload) as { t: string; event?: { type: string; participant?: { callSid: string } } };
    if (parsed.t !== 'event' || !parsed.event) return;
    events.push({ at, type: parsed.event.type, callSid: parsed.event.participant?.callSid });
  });
  await client.query(`listen "${channelsOf(schema).cluster}"`);
  return {
    events,
    first(type, callSid, since) {
      // Arrival order: skip back to the first event at or after `since`, then look forward.
      let i = events.length;
      while (i > 0 && events[i - 1]!.at >= since) i--;
      for (; i < events.length; i++) {
        const e = events[i]!;
        if (e.type === type && e.callSid === callSid) return e;
      }
      return undefined;
    },
    close: () => client.end(),
  };
}
