/**
 * How long the Kamailio front (deploy/kamailio/kamailio.cfg) takes to stop sending calls to a
 * Conclave node that died, what callers notice meanwhile, and how soon a node that comes back
 * gets calls again. Two node processes of this checkout on one fresh PostgreSQL schema, the
 * real `kamailio` in front, SIP phones calling through it at a steady rate.
 *
 * Each round stops one node, alternately with SIGKILL and SIGTERM, while calls keep coming
 * (each one: INVITE, answered, `<Pause length="1"/>`, then Conclave hangs up). Reported per
 * round:
 *   - `down`: from the signal to Kamailio's "node down" (its OPTIONS probe went unanswered);
 *   - calls placed between the signal and `down`, how many of them were failed over (offered
 *     to the dead node first, then answered by the survivor), their longest answer time, and
 *     how many failed outright;
 *   - `up`: from the restarted node's start-up banner to Kamailio's "node up", and to the
 *     first call it answers again.
 * and the answer time of calls in quiet times, for comparison.
 *
 *   npx tsx bench/kamailio-failover.ts [--rounds 6] [--rate 10]
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { parseSipUri } from '../src/sip/sip-uri.js';
import { dropSchema, freeSipPort, newSchemaName, nodeDatabaseUrl, startNodeProcess, type NodeProcess } from '../test/helpers/node-process.js';
import { SipPhone } from '../test/helpers/sip-phone.js';
import { answer, startReceiver } from '../test/helpers/webhook-receiver.js';
import { startKamailio } from '../test/interop/kamailio-process.js';

const NUMBER = '+15005550111';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

const rounds = Number(option('rounds', '6'));
const rate = Number(option('rate', '10'));

interface CallOutcome {
  placedAt: number;
  /** ms from INVITE to 200, or undefined when it failed. */
  answerMs?: number;
  /** The SIP port of the node that answered. */
  nodePort?: number;
  failed?: number;
  callId?: string;
}

const schema = newSchemaName();
const accountSid = newSid('AC');
const authToken = newAuthToken();
const receiver = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response><Pause length="1"/></Response>'));
const sipPorts = [await freeSipPort(), await freeSipPort()];
const startNode = (port: number): Promise<NodeProcess> =>
  startNodeProcess({
    accountSid,
    authToken,
    env: { CONCLAVE_DATABASE: nodeDatabaseUrl(schema), CONCLAVE_SIP_PORT: String(port), CONCLAVE_SIP_TRUSTED: '127.0.0.1', CONCLAVE_LOG_LEVEL: 'warn' },
  });
const nodes: NodeProcess[] = [];
for (const port of sipPorts) nodes.push(await startNode(port));
const kamailio = await startKamailio(sipPorts);
await nodes[0]!.request('POST', '/IncomingPhoneNumbers.json', { PhoneNumber: NUMBER, VoiceUrl: `${receiver.baseUrl}/voice` });

const outcomes: CallOutcome[] = [];
const inFlight = new Set<Promise<void>>();
let calling = true;
let count = 0;

async function oneCall(): Promise<void> {
  const phone = await SipPhone.open(`bench${++count}`, null);
  const outcome: CallOutcome = { placedAt: performance.now() };
  outcomes.push(outcome);
  try {
    const dialing = phone.dial(kamailio.uriFor(NUMBER));
    outcome.callId = phone.call?.callId;
    const call = await dialing;
    outcome.answerMs = performance.now() - outcome.placedAt;
    outcome.nodePort = parseSipUri(call.dialog!.remoteTarget)?.port;
    await Promise.race([phone.ended(), sleep(10_000)]);
  } catch (error) {
    outcome.failed = (error as { status?: number }).status ?? -1;
  } finally {
    await phone.close();
  }
}

const caller = (async () => {
  for (let next = performance.now(); calling; next += 1000 / rate) {
    const done: Promise<void> = oneCall().finally(() => inFlight.delete(done));
    inFlight.add(done);
    await sleep(Math.max(0, next + 1000 / rate - performance.now()));
  }
})();

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

/** Calls placed before the loop, one per node, so that the first round does not measure a cold node's first call. */
async function warmUp(): Promise<void> {
  for (let i = 0; i < 20 && new Set(outcomes.filter((o) => o.nodePort !== undefined).map((o) => o.nodePort)).size < nodes.length; i++) await sleep(250);
  await sleep(3000);
}

const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value.toFixed(0)} ms`);

console.log(`kamailio-failover: 2 nodes, ${rate} calls/s through kamailio on 127.0.0.1:${kamailio.port}, ${rounds} rounds`);
const quietAnswerMs: number[] = [];
try {
  await warmUp();
  for (let round = 0; round < rounds; round++) {
    const signal: NodeJS.Signals = round % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
    const index = round % 2;
    const victim = nodes[index]!;
    const uri = `sip:127.0.0.1:${victim.sipPort}`;
    const logged = kamailio.lines.length;
    const killedAt = performance.now();
    const killedWall = Date.now();
    quietAnswerMs.push(...outcomes.filter((o) => o.answerMs !== undefined && o.placedAt > killedAt - 3000 && o.placedAt + o.answerMs < killedAt).map((o) => o.answerMs!));
    const exited = victim.kill(signal);
    const down = await kamailio.logLine([`node down: ${uri}`], 30_000, logged);
    const downAt = killedAt + (down.at - killedWall);
    await sleep(3000);
    const settled = performance.now();
    // Calls placed between the signal and "node down": some were offered to the dead node first.
    const window = outcomes.filter((o) => o.placedAt >= killedAt && o.placedAt <= downAt);
    const windowAnswerMs = window.filter((o) => o.answerMs !== undefined).map((o) => o.answerMs!);
    const failedOver = kamailio.lines.slice(logged).filter((l) => l.includes(`node ${uri} did not answer`) || (l.includes(`node ${uri} answered`) && l.includes('trying the next'))).length;
    // Calls placed after "node down": every one should be the survivor's.
    const after = outcomes.filter((o) => o.placedAt > downAt && o.placedAt + 2000 < settled);
    const afterOnVictim = after.filter((o) => o.nodePort === victim.sipPort).length;
    await exited;

    nodes[index] = await startNode(victim.sipPort);
    const restartedWall = Date.now();
    const restartedAt = performance.now();
    const up = await kamailio.logLine([`node up: ${uri}`], 30_000, logged);
    for (let i = 0; i < 100 && !outcomes.some((o) => o.nodePort === victim.sipPort && o.placedAt >= restartedAt); i++) await sleep(100);
    const firstCall = outcomes.find((o) => o.nodePort === victim.sipPort && o.placedAt >= restartedAt);
    console.log(
      [
        `round ${round + 1}, ${signal}: node down ${down.at - killedWall} ms after the signal`,
        `${window.length} calls placed meanwhile: ${failedOver} failed over, ${window.filter((o) => o.failed !== undefined).length} failed, longest answer ${ms(windowAnswerMs.length ? Math.max(...windowAnswerMs) : undefined)}`,
        `${after.length} calls after: ${afterOnVictim} to the dead node, ${after.filter((o) => o.failed !== undefined).length} failed`,
        `restarted: node up ${up.at - restartedWall} ms after its banner, its first call placed ${ms(firstCall && firstCall.placedAt - restartedAt)} after, answered in ${ms(firstCall?.answerMs)}`,
      ].join('; '),
    );
    await sleep(5000);
  }
} finally {
  calling = false;
  await caller;
  await Promise.all([...inFlight]);
  const failed = outcomes.filter((o) => o.failed !== undefined);
  console.log(
    `all: ${outcomes.length} calls, ${failed.length} failed${failed.length ? ` (status ${[...new Set(failed.map((o) => o.failed))].join(', ')}: calls ringing on a node when it was killed get no final answer)` : ''}; ` +
      `answer time before each stop p50 ${ms(percentile(quietAnswerMs, 50))}, p99 ${ms(percentile(quietAnswerMs, 99))}`,
  );
  await kamailio.close();
  await Promise.all(nodes.map((node) => node.close()));
  await receiver.close();
  await dropSchema(schema);
}
