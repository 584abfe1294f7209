/**
 * Conclave as the registrar of a SIP Domain (issue 14 §2) with a real third-party phone: Debian's
 * baresip, in a network namespace, signs in to `sip:bob@<domain>` through Conclave (its outbound
 * proxy: the domain name needs no DNS) with digest credentials of a list mapped for
 * registrations; with a wrong password it is refused. Then `<Dial><Sip>sip:bob@<domain></Sip>`
 * rings it, it answers, and the caller (`sim:…;record`) hears its 400 Hz. Two baresips signed in
 * as bob both ring (Conclave forks the call): the one that answers is heard, the other is
 * cancelled.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { startBaresip, type Baresip } from './helpers/baresip.js';
import { startConclave, type Conclave } from './helpers/conclave.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { requireTools } from './helpers/tools.js';
import { meanLevel, writeToneWav } from './helpers/wav.js';
import { until } from '../helpers/until.js';

const DOMAIN = 'phones.acme.example';
const PASSWORD = 'Correct-Horse-42';
const PHONE_HZ = 400;
const RATE = 8000;

let netns: Netns;
let scratch: string;
let tone400: string;
let conclave: Conclave | undefined;
const phones: Baresip[] = [];
let nextPort = 5160;

beforeAll(async () => {
  requireTools('baresip', 'sox', 'ip');
  scratch = await mkdtemp(join(tmpdir(), 'conclave-interop-registrar-'));
  tone400 = join(scratch, 'tone400.wav');
  await writeToneWav(tone400, { freq: PHONE_HZ, seconds: 30 });
  netns = await createNetns();
}, 30_000);

beforeEach(async () => {
  const c = await startConclave(netns);
  conclave = c;
  const post = async (path: string, form: Record<string, string>): Promise<string> => {
    const res = await c.request('POST', path, form);
    expect(res.status, res.body).toBe(201);
    return res.json<{ sid: string }>().sid;
  };
  const domain = await post('/SIP/Domains.json', { DomainName: DOMAIN, SipRegistration: 'true' });
  const list = await post('/SIP/CredentialLists.json', { FriendlyName: 'phones' });
  await post(`/SIP/CredentialLists/${list}/Credentials.json`, { Username: 'bob', Password: PASSWORD });
  await post(`/SIP/Domains/${domain}/Auth/Registrations/CredentialListMappings.json`, { CredentialListSid: list });
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await conclave?.close();
  conclave = undefined;
});

afterAll(async () => {
  await netns?.destroy();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** baresip signing in as bob through Conclave, answering every call (or, with `autoAnswer` false, ringing). */
async function registeringPhone(password: string, autoAnswer = true): Promise<Baresip> {
  const c = conclave!;
  const outbound = `sip:${c.sipHost}:${c.sipPort}`;
  const p = await startBaresip({
    netns,
    name: 'bob',
    audioSource: tone400,
    sipPort: nextPort,
    sipTrace: true,
    autoAnswer,
    aor: `sip:bob@${DOMAIN}`,
    accountParams: `;auth_user=bob;auth_pass=${password};outbound="${outbound}";regint=600`,
  });
  nextPort += 2;
  phones.push(p);
  return p;
}

it('registers baresip with digest, refuses a wrong password, and rings it for <Dial><Sip>sip:bob@domain: the caller hears it', async () => {
  const c = conclave!;
  const intruder = await registeringPhone('Wrong-Horse-42');
  // REGISTER_FAIL, or (when it failed before the control socket was up) libre's log line for it.
  const failed = (): boolean => intruder.events.some((e) => e.type === 'REGISTER_FAIL') || /reg: sip:bob@\S+: /.test(intruder.log);
  await until(failed, 10_000, () => `baresip to fail to register\n${intruder.log}`);
  expect(intruder.log).not.toMatch(/\[1 binding\]/);
  await intruder.stop();
  phones.splice(phones.indexOf(intruder), 1);

  const bob = await registeringPhone(PASSWORD);
  // baresip registers as it starts, often before its control socket is up to tell REGISTER_OK:
  // its own log line for the 200 says it.
  await until(() => /200 OK \(\) \[1 binding\]/.test(bob.log), 10_000, () => `baresip to register\n${bob.log}`);

  const caller = await c.request('POST', '/Calls.json', { To: 'sim:caller;record', From: '+15005550006', Twiml: `<Response><Dial timeout="15"><Sip>sip:bob@${DOMAIN}</Sip></Dial></Response>` });
  expect(caller.status, caller.body).toBe(201);
  const callSid = caller.json<{ sid: string }>().sid;
  await bob.waitEvent('CALL_ESTABLISHED', { timeoutMs: 15_000 });
  const from = (await c.recording(callSid)).length;
  const heard = (await c.recordingUntil(callSid, from + 2 * RATE, 10_000)).subarray(from + RATE / 2);
  expect(meanLevel(heard, PHONE_HZ)).toBeGreaterThan(0.1);
}, 60_000);

it('rings two baresips signed in as bob at once: the one that answers is heard, the other gets CANCEL', async () => {
  const c = conclave!;
  const desk = await registeringPhone(PASSWORD, false);
  await until(() => /200 OK \(\) \[1 binding\]/.test(desk.log), 10_000, () => `the desk baresip to register\n${desk.log}`);
  const soft = await registeringPhone(PASSWORD);
  await until(() => /200 OK \(\) \[2 bindings\]/.test(soft.log), 10_000, () => `the soft baresip to register\n${soft.log}`);

  const caller = await c.request('POST', '/Calls.json', { To: 'sim:caller;record', From: '+15005550006', Twiml: `<Response><Dial timeout="15"><Sip>sip:bob@${DOMAIN}</Sip></Dial></Response>` });
  expect(caller.status, caller.body).toBe(201);
  const callSid = caller.json<{ sid: string }>().sid;
  await soft.waitEvent('CALL_ESTABLISHED', { timeoutMs: 15_000 });
  // The desk rang (baresip says 180) and was cancelled when the soft phone answered.
  await desk.waitEvent('CALL_CLOSED', { timeoutMs: 10_000 });
  // baresip tells CALL_CLOSED on its control socket before its SIP trace of the CANCEL reaches
  // its log (another pipe): wait for the trace.
  await until(() => /^CANCEL sip:bob\S*@/m.test(desk.log), 5_000, () => `the CANCEL in the desk baresip's trace\n${desk.log}`);
  const from = (await c.recording(callSid)).length;
  const heard = (await c.recordingUntil(callSid, from + 2 * RATE, 10_000)).subarray(from + RATE / 2);
  expect(meanLevel(heard, PHONE_HZ)).toBeGreaterThan(0.1);
}, 60_000);
