/**
 * Mute and kick latency through another node (issue 11): how long after a REST request the
 * listener's audio changes, when the request reaches the node that runs the calls (B) and when
 * it reaches another node (A) sharing B's PostgreSQL — side by side, interleaved, in one run.
 *
 *   npx tsx bench/cluster-latency.ts [--rounds 200] [--kicks 50] [--cancels 30] [--background 0]
 *                                    [--media-realtime auto|off] [--profile]
 *
 * Two `conclave serve` processes on one fresh PostgreSQL schema (bench/cluster-nodes.ts). Two
 * SIP phones in this process — a silent listener and a 600 Hz talker — are dialled into one
 * conference by Create Participant sent to B, so both calls run on B. `--background` more
 * simulated participants on B (tones, rooms of 10) keep its mixer busy.
 *
 * Mute: each round picks A or B (pairs in ABBA order), waits 20–60 ms at random (so requests
 * fall anywhere in the mixer's 20 ms tick rather than locked to the frame just heard), sends
 * `POST …/Participants/{talker} Muted=true` and notes when it was sent; the latency is the
 * arrival at the listener of the first of three frames in a row without 600 Hz (Goertzel, as
 * bench/mute-latency.ts), minus that instant. Unmute, through the same node, is the first frame
 * with 600 Hz again. Through B or A, the change is committed with its event and the event
 * reaches B by PostgreSQL NOTIFY (record-events.ts): B applies the media flags from it
 * (conference-media.ts), so the two paths differ only in which node runs the transaction.
 *
 * Kick: a simulated participant speaking 1000 Hz joins through B; once the listener hears it,
 * `DELETE …/Participants/{CallSid}` goes to A or B (ABBA again); the latency is the first of
 * three listener frames in a row without 1000 Hz, minus the instant the DELETE was sent.
 *
 * Cancel: a simulated participant that never answers is dialled through B; while it rings,
 * `DELETE …/Participants/{CallSid}` goes to A or B. The participant leaves at once, and the
 * answer waits until its call is cancelled on B: through A, that is a command row and its
 * NOTIFY to B, and B's answer back the same way (node-commands.ts) — the figure is sent → 204.
 *
 * Where the time goes: the bench LISTENs on the cluster channel itself, so each change is
 * split into "request sent → event out of PostgreSQL" (transaction, commit, NOTIFY) and "event
 * out → listener hears the change" (B's relay to its bus, the media flags, the worker's next
 * tick, the frame's way to the phone). `--profile` also writes V8 CPU profiles of both nodes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { goertzel } from '../test/media/goertzel.js';
import type { NodeProcess } from '../test/helpers/node-process.js';
import { SipPhone, type HeardFrame } from '../test/helpers/sip-phone.js';
import { startCluster, tapClusterChannel, treeDescription, type ChannelTap } from './cluster-nodes.js';
import { percentile } from './measure.js';
import { summariseProfiles } from './profile-summary.js';
import { machineBusy } from './machine-busy.js';
import { cpuBusy, machine } from './report.js';

const TALKER_HZ = 600;
const KICKED_HZ = 1000;
/** Goertzel amplitude above which the tone is heard (the tone is 8000; mute-latency.ts's threshold). */
const HEARD = 1500;
const QUIET = HEARD / 5;
const FROM = '+15005550006';

type Via = 'B' | 'A';
const VIA_LABEL: Record<Via, string> = { B: 'B (the calls’ node)', A: 'A (another node)' };

interface Sample {
  /** Request sent → the listener's audio changed. */
  total: number;
  /** Request sent → the REST answer read. */
  reply: number;
  /**
   * Request sent → the event's NOTIFY at the bench (NaN when it was not seen). Looked up once
   * every change is done: the bench's own loop may read a NOTIFY after the audio has changed.
   */
  notify: () => number;
}

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    rounds: { type: 'string', default: '200' },
    kicks: { type: 'string', default: '50' },
    cancels: { type: 'string', default: '30' },
    background: { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
    'media-realtime': { type: 'string', default: 'auto' },
  },
  strict: true,
});

function whole(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number (got ${raw})`);
  return n;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Pairs in ABBA order: B A, A B, B A, … — drift on the machine hits both paths alike. */
function viaOf(i: number): Via {
  const first: Via = Math.floor(i / 2) % 2 === 0 ? 'B' : 'A';
  return i % 2 === 0 ? first : first === 'B' ? 'A' : 'B';
}

/** The index of the first frame that arrived at or after `since` (frames are in arrival order). */
function firstAfter(frames: readonly HeardFrame[], since: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.at < since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The arrival time of the first of `run` frames in a row, heard at or after `since`, whose
 * amplitude of `hz` passes `test`. Arrival times are taken by the phone's socket handler, so
 * how often this looks does not change them.
 */
async function firstRun(phone: SipPhone, since: number, hz: number, test: (amplitude: number) => boolean, run: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let k = firstAfter(phone.heard, since);
  let streak = 0;
  let start = 0;
  for (;;) {
    const heard = phone.heard;
    for (; k < heard.length; k++) {
      if (test(goertzel(heard[k]!.pcm, hz))) {
        if (streak === 0) start = k;
        if (++streak >= run) return heard[start]!.at;
      } else streak = 0;
    }
    if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await pause(2);
  }
}

const quiet = (a: number): boolean => a < QUIET;
const loud = (a: number): boolean => a > HEARD;

function expectStatus(response: { status: number; body: string }, status: number, what: string): void {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${response.body.slice(0, 300)}`);
}

/** Polls the participant through `node` until its status is `status`. */
async function reaches(node: NodeProcess, conference: string, callSid: string, status: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const r = await node.request('GET', `/Conferences/${conference}/Participants/${callSid}.json`);
    if (r.status === 200 && r.json.status === status) return;
    if (performance.now() > deadline) throw new Error(`participant ${callSid} not ${status}: ${r.status} ${r.body.slice(0, 200)}`);
    await pause(20);
  }
}

interface Row {
  label: string;
  values: number[];
}

function table(rows: readonly Row[]): string {
  const f = (ms: number): string => (Number.isNaN(ms) ? '—' : ms.toFixed(1));
  const lines = ['| what | n | min | p50 | p95 | p99 | max |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const row of rows) {
    const seen = row.values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const p = (q: number): string => f(percentile(seen, q));
    lines.push(`| ${row.label} | ${seen.length} | ${f(seen[0] ?? Number.NaN)} | ${p(0.5)} | ${p(0.95)} | **${p(0.99)}** | ${f(seen.at(-1) ?? Number.NaN)} |`);
  }
  return lines.join('\n');
}

/** Rows for one kind of change: the whole latency per path, then its parts. */
function rowsOf(kind: string, samples: Record<Via, Sample[]>): Row[] {
  const rows: Row[] = [];
  for (const via of ['B', 'A'] as const) rows.push({ label: `${kind} via ${VIA_LABEL[via]}: sent → heard`, values: samples[via].map((s) => s.total) });
  for (const via of ['B', 'A'] as const) {
    const s = samples[via];
    rows.push({ label: `… via ${via}: sent → REST answer`, values: s.map((x) => x.reply) });
    rows.push({ label: `… via ${via}: REST answer → heard`, values: s.map((x) => x.total - x.reply) });
    rows.push({ label: `… via ${via}: sent → NOTIFY at the bench`, values: s.map((x) => x.notify()) });
    rows.push({ label: `… via ${via}: NOTIFY → heard`, values: s.map((x) => x.total - x.notify()) });
  }
  return rows;
}

async function main(): Promise<void> {
  const rounds = whole('rounds', args.rounds);
  const kicks = whole('kicks', args.kicks);
  const cancels = whole('cancels', args.cancels);
  const background = whole('background', args.background);
  console.log(`Machine: ${machine()}`);
  console.log(`Tree: ${treeDescription()}`);
  const busy = await cpuBusy(1000);
  if (busy !== undefined) console.log(`CPU busy before the run (all cores, 1 s): ${(busy * 100).toFixed(0)} %`);
  console.log(
    `${rounds} mutes and unmutes, ${kicks} kicks and ${cancels} cancels per path; ${background} background participants on B; ` +
      `CONCLAVE_MEDIA_REALTIME=${String(args['media-realtime'])}`,
  );

  const profileRoot = args.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-cluster-profile-')) : undefined;
  const profileDirs = profileRoot ? [path.join(profileRoot, 'A'), path.join(profileRoot, 'B')] : undefined;
  const mediaRealtime = args['media-realtime'];
  if (mediaRealtime !== 'auto' && mediaRealtime !== 'off') throw new Error(`--media-realtime must be auto or off (got ${mediaRealtime})`);
  const cluster = await startCluster({ count: 2, mediaRealtime, ...(profileDirs ? { profileDirs } : {}) });
  const [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
  const node: Record<Via, NodeProcess> = { A: nodeA, B: nodeB };
  const phones: SipPhone[] = [];
  let tap: ChannelTap | undefined;
  try {
    tap = await tapClusterChannel(cluster.schema);
    const channel = tap;

    for (let i = 0; i < background; i++) {
      const r = await nodeB.request('POST', `/Conferences/bg-${Math.floor(i / 10)}/Participants.json`, { From: FROM, To: `sim:bg${i};tone=${300 + (i % 10) * 100}`, Beep: 'false' });
      expectStatus(r, 201, 'a background participant');
    }

    const listener = await SipPhone.open('listener', null, { answer: true });
    const talker = await SipPhone.open('talker', TALKER_HZ, { answer: true });
    phones.push(listener, talker);
    const join = async (to: string, label: string): Promise<{ conference: string; callSid: string }> => {
      const r = await nodeB.request('POST', '/Conferences/measured/Participants.json', { From: FROM, To: to, Label: label, Beep: 'false' });
      expectStatus(r, 201, `Create Participant ${label}`);
      return { conference: String(r.json.conference_sid), callSid: String(r.json.call_sid) };
    };
    const first = await join(listener.uri, 'listener');
    const conference = first.conference;
    await reaches(nodeB, conference, first.callSid, 'connected');
    const talkerSid = (await join(talker.uri, 'talker')).callSid;
    await reaches(nodeB, conference, talkerSid, 'connected');
    // Both nodes answer from warm connections and warm code before anything is timed.
    for (let i = 0; i < 20; i++) for (const n of [nodeA, nodeB]) expectStatus(await n.request('GET', `/Conferences/${conference}/Participants/${talkerSid}.json`), 200, 'warm-up');
    await firstRun(listener, performance.now(), TALKER_HZ, loud, 3, 5000, 'the listener did not hear the talker');

    const participant = `/Conferences/${conference}/Participants/${talkerSid}.json`;
    /** One timed change: sent at a random point of the tick, timed to the listener's change. */
    const timed = async (via: Via, send: () => Promise<{ status: number; body: string }>, status: number, hz: number, becomes: 'quiet' | 'heard', event: string, callSid: string): Promise<Sample> => {
      await pause(20 + Math.random() * 40);
      const sent = performance.now();
      const response = await send();
      const reply = performance.now() - sent;
      expectStatus(response, status, `${event} via ${via}`);
      const at =
        becomes === 'quiet'
          ? await firstRun(listener, sent, hz, quiet, 3, 3000, `the listener still heard ${hz} Hz after ${event} via ${via}`)
          : await firstRun(listener, sent, hz, loud, 1, 3000, `the listener did not hear ${hz} Hz after ${event} via ${via}`);
      // Settled before the next change: three frames in a row of the new state.
      await firstRun(listener, at, hz, becomes === 'quiet' ? quiet : loud, 3, 3000, `the listener's audio did not settle after ${event} via ${via}`);
      const notify = (): number => {
        const notified = channel.first(event, callSid, sent);
        return notified ? notified.at - sent : Number.NaN;
      };
      return { total: at - sent, reply, notify };
    };

    const mutes: Record<Via, Sample[]> = { A: [], B: [] };
    const unmutes: Record<Via, Sample[]> = { A: [], B: [] };
    const started = performance.now();
    const muteBusy = machineBusy();
    for (let i = 0; i < 2 * rounds; i++) {
      const via = viaOf(i);
      mutes[via].push(await timed(via, () => node[via].request('POST', participant, { Muted: 'true' }), 200, TALKER_HZ, 'quiet', 'mute', talkerSid));
      unmutes[via].push(await timed(via, () => node[via].request('POST', participant, { Muted: 'false' }), 200, TALKER_HZ, 'heard', 'unmute', talkerSid));
      if ((i + 1) % 50 === 0) console.log(`mute rounds ${i + 1}/${2 * rounds} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }

    const muteBusyShare = muteBusy();
    // The talker is muted for the kicks: only the kicked participant speaks.
    expectStatus(await nodeB.request('POST', participant, { Muted: 'true' }), 200, 'mute the talker');
    const kicked: Record<Via, Sample[]> = { A: [], B: [] };
    const kickBusy = machineBusy();
    for (let i = 0; i < 2 * kicks; i++) {
      const via = viaOf(i);
      const joined = performance.now();
      const { callSid } = await join(`sim:kick${i};tone=${KICKED_HZ}`, `kick${i}`);
      await firstRun(listener, joined, KICKED_HZ, loud, 3, 10_000, `the listener did not hear kick${i}`);
      kicked[via].push(await timed(via, () => node[via].request('DELETE', `/Conferences/${conference}/Participants/${callSid}.json`), 204, KICKED_HZ, 'quiet', 'leave', callSid));
    }

    const kickBusyShare = kickBusy();

    // A participant still ringing has no room to leave: its call is cancelled on the node that
    // dials it — through A, a command to B and B's answer, both through PostgreSQL (call-commands.ts).
    const cancelled: Record<Via, number[]> = { A: [], B: [] };
    for (let i = 0; i < 2 * cancels; i++) {
      const via = viaOf(i);
      const { callSid } = await join(`sim:ring${i};no-answer`, `ring${i}`);
      await reaches(nodeB, conference, callSid, 'ringing');
      await pause(20 + Math.random() * 40);
      const sent = performance.now();
      const response = await node[via].request('DELETE', `/Conferences/${conference}/Participants/${callSid}.json`);
      cancelled[via].push(performance.now() - sent);
      expectStatus(response, 204, `cancel via ${via}`);
      // What the client sees once answered: the call has ended.
      const call = await node[via].request('GET', `/Calls/${callSid}.json`);
      if (call.json.status !== 'canceled') throw new Error(`the cancelled call is ${String(call.json.status)}, not canceled`);
    }
    const percent = (share: number): string => `${(share * 100).toFixed(0)} %`;
    console.log('');
    console.log(`Mute (Muted=true) and unmute: ${rounds} each per path, interleaved; machine ${percent(muteBusyShare)} busy meanwhile; milliseconds`);
    console.log('');
    console.log(table([...rowsOf('mute', mutes), ...rowsOf('unmute', unmutes)]));
    if (kicks > 0) {
      console.log('');
      console.log(`Kick (DELETE Participant): ${kicks} per path, interleaved; machine ${percent(kickBusyShare)} busy meanwhile; milliseconds`);
      console.log('');
      console.log(table(rowsOf('kick', kicked)));
    }
    if (cancels > 0) {
      console.log('');
      console.log(`Cancel (DELETE Participant while it rings): ${cancels} per path, interleaved; milliseconds`);
      console.log('');
      console.log(table((['B', 'A'] as const).map((via) => ({ label: `cancel via ${VIA_LABEL[via]}: sent → 204`, values: cancelled[via] }))));
    }
  } finally {
    await tap?.close();
    for (const phone of phones) await phone.close();
    await cluster.close();
  }
  if (profileRoot) {
    for (const name of ['A', 'B']) {
      console.log(`\nCPU profile of node ${name}:`);
      console.log(summariseProfiles(path.join(profileRoot, name)));
    }
    console.log(`\n(profiles kept in ${profileRoot})`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
