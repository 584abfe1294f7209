/**
 * Conclave against SIPp (Debian sip-tester), run inside a network namespace, with a real
 * Conclave (REST API, SIP UDP+TCP, RTP) on the host end of the veth:
 *
 * 4. sipp's built-in `uac` scenario calls Conclave's number over UDP and TCP: the call is
 *    answered (its TwiML puts it in a conference), sipp hangs up, and the Calls list shows the
 *    inbound call completed.
 * 5. sipp as a UAS that challenges with 401 Digest and checks the credentials (`verifyauth`):
 *    Create Participant with SipAuthUsername/SipAuthPassword connects; a wrong password fails.
 *    With `<Dial answerOnBridge>` it takes our 183 (early media) before the 200.
 * 6. sipp cancels before the answer, while Conclave rings and its VoiceUrl is still fetching:
 *    200 for the CANCEL, 487 for the INVITE; the call ends `canceled`.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gate } from '../helpers/webhook-receiver.js';
import { NUMBER, ROOM_TWIML, startConclave, type Conclave } from './helpers/conclave.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { CANCEL_UAC_SCENARIO, DIGEST_UAS_SCENARIO, screenCounts, waitListening } from './helpers/scenarios.js';
import { runSipp, type SippResult } from './helpers/sipp.js';
import { requireTools } from './helpers/tools.js';

let netns: Netns;
let conclave: Conclave | undefined;
const cleanups: Array<() => unknown> = [];
/** sipp runs still going when a test ends (it failed early): awaited after Conclave closes (its BYE ends them). */
const running: Array<Promise<unknown>> = [];

beforeAll(async () => {
  requireTools('sipp', 'ip');
  netns = await createNetns();
}, 30_000);

beforeEach(async () => {
  conclave = await startConclave(netns);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await conclave?.close();
  conclave = undefined;
  await Promise.all(running.splice(0).map((r) => r.catch(() => undefined)));
}, 40_000); // Conclave's close waits for a pending INVITE that never got a provisional (Timer B, 32 s)

afterAll(async () => {
  await netns?.destroy();
});

function app(): Conclave {
  if (!conclave) throw new Error('no Conclave');
  return conclave;
}

const explain = (r: SippResult): string => `${r.command}\n${r.screen}\n${r.errors}\n${r.stderr}`;

/** The inbound calls Conclave lists from sipp, newest first. */
const fromSipp = (call: Record<string, unknown>): boolean => call.direction === 'inbound' && String(call.from).includes('sipp@');

let nextPort = 5090;
const sippPort = (): number => (nextPort += 2);

describe('sipp calls Conclave', () => {
  for (const transport of ['u1', 't1'] as const) {
    it(`the built-in uac scenario (-t ${transport}) calls ${NUMBER}: answered, hung up, listed as a completed inbound call`, async () => {
      const c = app();
      const result = await runSipp({
        netns,
        scenario: 'uac',
        target: `${c.sipHost}:${c.sipPort}`,
        service: NUMBER,
        transport,
        localPort: sippPort(),
        durationMs: 300,
        timeoutMs: 10_000,
      });
      expect(result.exitCode, explain(result)).toBe(0);
      expect(result.successful).toBe(1);
      expect(result.failed).toBe(0);
      expect(c.web.requests).toHaveLength(1); // the VoiceUrl was fetched once
      expect(c.web.requests[0]?.params).toMatchObject({ To: NUMBER, Direction: 'inbound', CallStatus: 'ringing' });
      const call = await c.waitCallListed((x) => fromSipp(x) && x.status === 'completed');
      expect(call).toMatchObject({ to: NUMBER, direction: 'inbound', status: 'completed' });
      // It was answered and put in the conference, then left it when sipp hung up.
      const sid = String(call.sid);
      expect(c.events.some((e) => e.type === 'join' && 'participant' in e && e.participant.callSid === sid)).toBe(true);
      expect(c.events.some((e) => e.type === 'leave' && 'participant' in e && e.participant.callSid === sid)).toBe(true);
    }, 20_000);
  }

  it('the built-in uac scenario takes the 183 of <Dial answerOnBridge> (early media), then the 200 when the line answers', async () => {
    const c = app();
    c.voice = () => '<Response><Dial answerOnBridge="true"><Number>sim:line;tone=800;ring=1</Number></Dial></Response>';
    const result = await runSipp({
      netns,
      scenario: 'uac',
      target: `${c.sipHost}:${c.sipPort}`,
      service: NUMBER,
      transport: 'u1',
      localPort: sippPort(),
      durationMs: 300,
      timeoutMs: 10_000,
    });
    expect(result.exitCode, explain(result)).toBe(0);
    expect(result.successful).toBe(1);
    expect(screenCounts(result.screen, '183', 'received'), explain(result)).toEqual([1]);
    const call = await c.waitCallListed((x) => fromSipp(x) && x.status === 'completed');
    expect(call).toMatchObject({ to: NUMBER, direction: 'inbound', status: 'completed' });
  }, 20_000);

  it('a CANCEL before the answer (while the VoiceUrl is fetched) gets 200 and 487; the call ends canceled', async () => {
    const c = app();
    const held = gate();
    c.voice = async () => {
      await held.promise;
      return ROOM_TWIML;
    };
    cleanups.push(() => held.open());
    const result = await runSipp({
      netns,
      scenario: { xml: CANCEL_UAC_SCENARIO },
      target: `${c.sipHost}:${c.sipPort}`,
      service: NUMBER,
      transport: 'u1',
      localPort: sippPort(),
      timeoutMs: 10_000,
    });
    expect(result.exitCode, explain(result)).toBe(0);
    expect(result.successful).toBe(1);
    expect(screenCounts(result.screen, '180', 'received'), explain(result)).toEqual([1]);
    expect(screenCounts(result.screen, 'CANCEL', 'sent'), explain(result)).toEqual([1]);
    expect(screenCounts(result.screen, '200', 'received'), explain(result)).toEqual([1]);
    expect(screenCounts(result.screen, '487', 'received'), explain(result)).toEqual([1]);
    // It rang while the VoiceUrl was fetched; the CANCEL gives the fetch up, so the request
    // may or may not have reached the app by then — it is never answered into a call.
    expect(c.web.requests.length).toBeLessThanOrEqual(1);
    held.open();
    const call = await c.waitCallListed((x) => fromSipp(x) && ['completed', 'busy', 'failed', 'no-answer', 'canceled'].includes(String(x.status)));
    expect(call).toMatchObject({ to: NUMBER, direction: 'inbound', status: 'canceled' });
    expect(c.events.filter((e) => 'participant' in e && e.participant.callSid === call.sid)).toEqual([]);
  }, 20_000);
});

describe('Conclave calls a sipp UAS that challenges (401 Digest)', () => {
  async function dialSipp(password: string): Promise<{ result: Promise<SippResult>; callSid: string; participants: string; port: number }> {
    const c = app();
    const port = sippPort();
    const result = runSipp({
      netns,
      scenario: { xml: DIGEST_UAS_SCENARIO },
      target: `${c.sipHost}:${c.sipPort}`,
      transport: 'u1',
      localPort: port,
      timeoutMs: 10_000,
    });
    running.push(result);
    // Conclave must not send its INVITE before sipp listens.
    await Promise.race([waitListening(netns, port, 'udp'), result.then((r) => Promise.reject(new Error(`sipp exited early\n${explain(r)}`)))]);
    const created = await c.request('POST', '/Conferences/room/Participants.json', {
      From: '+15005550006',
      To: `sip:alice@${netns.nsAddress}:${port}`,
      Label: 'alice',
      SipAuthUsername: 'alice',
      SipAuthPassword: password,
    });
    expect(created.status, created.body).toBe(201);
    const { call_sid: callSid, conference_sid: conferenceSid } = created.json<{ call_sid: string; conference_sid: string }>();
    return { result, callSid, participants: `/Conferences/${conferenceSid}/Participants`, port };
  }

  it('with SipAuthUsername/SipAuthPassword the call connects; sipp verifies the digest; a kick ends it', async () => {
    const c = app();
    const { result, callSid, participants } = await dialSipp('secret');
    await c.waitParticipant((e) => e.type === 'join' && e.participant.callSid === callSid && e.participant.status === 'connected');
    const fetched = await c.request('GET', `${participants}/${callSid}.json`);
    expect(fetched.json()).toMatchObject({ call_sid: callSid, label: 'alice', status: 'connected' });
    expect(await c.call(callSid)).toMatchObject({ status: 'in-progress', to: expect.stringContaining('sip:alice@') });

    // The kick sends the BYE that sipp's scenario waits for.
    expect((await c.request('DELETE', `${participants}/${callSid}.json`)).status).toBe(204);
    const r = await result;
    expect(r.exitCode, explain(r)).toBe(0);
    expect(r.successful).toBe(1);
    expect(screenCounts(r.screen, '401', 'sent'), explain(r)).toEqual([1]);
    expect(screenCounts(r.screen, '403', 'sent'), explain(r)).toEqual([0]);
    expect(screenCounts(r.screen, 'BYE', 'received'), explain(r)).toEqual([1]);
    // Two INVITEs and two ACKs (of the 401, of the 200), the 401's ACK before or after the retry.
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    expect(sum(screenCounts(r.screen, 'INVITE', 'received')), explain(r)).toBe(2);
    expect(sum(screenCounts(r.screen, 'ACK', 'received')), explain(r)).toBe(2);
    expect(await c.waitCall(callSid)).toMatchObject({ status: 'completed' });
  }, 20_000);

  it('with a wrong SipAuthPassword sipp answers 403 and the participant fails and is removed', async () => {
    const c = app();
    const { result, callSid, participants } = await dialSipp('wrong');
    const r = await result;
    expect(r.exitCode, explain(r)).toBe(0);
    expect(screenCounts(r.screen, '401', 'sent'), explain(r)).toEqual([1]);
    expect(screenCounts(r.screen, '403', 'sent'), explain(r)).toEqual([1]);
    expect(screenCounts(r.screen, '200', 'sent'), explain(r)).toEqual([0, 0]);
    expect(await c.waitCall(callSid)).toMatchObject({ status: 'failed' });
    expect(c.events.some((e) => e.type === 'join' && 'participant' in e && e.participant.callSid === callSid && e.participant.status === 'connected')).toBe(false);
    expect((await c.request('GET', `${participants}/${callSid}.json`)).status).toBe(404);
  }, 20_000);
});
