/**
 * Calls left live by a run that did not stop cleanly are ended at the next start (SQLite), and
 * their participants leave; participants that have no call (put in by `conclave join`) stay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Call } from '../../src/domain/call.js';
import { newSid } from '../../src/domain/sids.js';
import { sweepOrphanCalls } from '../../src/services/calls/sweep-orphan-calls.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

function liveCall(accountSid: string, status: Call['status'], sid = newSid('CA')): Call {
  return {
    sid,
    accountSid,
    parentCallSid: null,
    to: 'sim:ghost',
    from: 'sim:app',
    phoneNumberSid: null,
    status,
    direction: 'outbound-api',
    timeout: 60,
    startTime: status === 'in-progress' ? Date.now() - 5000 : null,
    endTime: null,
    duration: null,
    queueTime: 0,
    url: null,
    method: 'POST',
    fallbackUrl: null,
    fallbackMethod: 'POST',
    twiml: '<Response/>',
    statusCallback: null,
    statusCallbackMethod: 'POST',
    statusCallbackEvents: [],
    dateCreated: Date.now(),
    dateUpdated: Date.now(),
  };
}

describe('the start-up sweep of orphan calls (SQLite)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp('sqlite');
  });
  afterEach(async () => t.close());

  it('ends live calls and takes their participants out; call-less participants stay', async () => {
    const ghost = liveCall(t.accountSid, 'in-progress');
    const ringing = liveCall(t.accountSid, 'ringing');
    await t.app.store.insertCall(ghost);
    await t.app.store.insertCall(ringing);
    const joined = await t.join('room', { callSid: ghost.sid });
    const cliParticipant = await t.join('room');
    const alone = await t.join('alone', { callSid: newSid('CA') });
    const aloneCall = liveCall(t.accountSid, 'in-progress', alone.participant.callSid);
    await t.app.store.insertCall(aloneCall);

    // The progress the dead run owed, as a status callback would tell it (the e2e test
    // test/e2e/shutdown.test.ts checks the real callbacks after a kill -9).
    const told: string[] = [];
    const notifier = { callProgress: (call: Call, event: string) => told.push(`${call.sid}:${event}:${call.status}`) };
    expect(await sweepOrphanCalls(t.app.services, notifier)).toBe(3);
    expect(told.sort()).toEqual([`${aloneCall.sid}:completed:completed`, `${ghost.sid}:completed:completed`, `${ringing.sid}:completed:failed`].sort());
    expect(await t.app.store.findCall(ghost.sid)).toMatchObject({ status: 'completed', duration: expect.any(Number) });
    expect((await t.app.store.findCall(ringing.sid))?.status).toBe('failed');
    expect(await t.app.store.findParticipantByCall(ghost.sid)).toBeUndefined();
    expect(await t.app.store.findParticipantByCall(cliParticipant.participant.callSid)).toBeDefined();
    expect((await t.app.store.findConference(t.accountSid, joined.conference.sid))?.status).not.toBe('completed');
    expect(await t.app.store.findConference(t.accountSid, alone.conference.sid)).toMatchObject({ status: 'completed', reasonConferenceEnded: 'last-participant-left' });
    expect(await sweepOrphanCalls(t.app.services, notifier)).toBe(0);
  });
});
