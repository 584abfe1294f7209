/**
 * The conference rules through the service layer on a real store: the events published on the
 * bus, in order (on PostgreSQL they arrive through the cluster channel, a moment after the
 * change is committed); creation on first join (also under concurrent first joins); capacity; the end
 * on exit, by the last leaver and through the API; and a name reused after the end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConferenceEvent } from '../../src/domain/events.js';
import { mediaStateOf } from '../../src/domain/media-state.js';
import { endConference } from '../../src/services/end-conference.js';
import { removeParticipant } from '../../src/services/remove-participant.js';
import { updateParticipant } from '../../src/services/update-participant.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { ManualClock, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';

function describeEvent(e: ConferenceEvent): string {
  return 'participant' in e ? `${e.type}:${e.participant.label ?? e.participant.callSid}` : `${e.type}:${e.conference.status}`;
}

describe.each(STORE_KINDS)('conference lifecycle on %s', (kind) => {
  let t: TestApp;
  let events: ConferenceEvent[];
  const clock = new ManualClock(Date.UTC(2026, 0, 1));

  beforeEach(async () => {
    t = await startTestApp(kind, { clock });
    events = [];
    t.app.bus.subscribe((e) => events.push(e));
  });
  afterEach(async () => t.close());

  it('creates the conference on the first join and starts it with the second', async () => {
    const a = await t.join('room', { label: 'a', startConferenceOnEnter: false });
    expect(a.conference.status).toBe('init');
    expect(mediaStateOf(a.conference, a.participant).hears).toBe('wait-music');
    clock.set(Date.UTC(2026, 0, 1, 0, 0, 5));
    const b = await t.join('room', { label: 'b' });
    expect(b.conference.sid).toBe(a.conference.sid);
    expect(b.conference.status).toBe('in-progress');
    expect(b.conference.dateUpdated).toBe(Date.UTC(2026, 0, 1, 0, 0, 5));
    expect(mediaStateOf(b.conference, a.participant).hears).toBe('conference');
    await until(() => expect(events.map(describeEvent)).toEqual(['join:a', 'join:b', 'start:in-progress']));
  });

  it('publishes mute, hold, modify and the end on exit, in order', async () => {
    const a = await t.join('room', { label: 'a', endConferenceOnExit: true });
    await t.join('room', { label: 'b' });
    await t.join('room', { label: 'c' });
    const address = { accountSid: t.accountSid, conferenceSid: a.conference.sid };
    await updateParticipant(t.app.services, { ...address, participant: 'b' }, { muted: true });
    await updateParticipant(t.app.services, { ...address, participant: 'c' }, { hold: true });
    await updateParticipant(t.app.services, { ...address, participant: 'b' }, { muted: false, callSidToCoach: a.participant.callSid });
    await removeParticipant(t.app.services, { ...address, participant: 'a' }, { reason: 'removed-via-api' });
    await until(() =>
      expect(events.map(describeEvent)).toEqual([
      'join:a',
      'join:b',
      'start:in-progress',
      'join:c',
      'mute:b',
      'hold:c',
      'unmute:b',
      'modify:b',
      'leave:a',
      'leave:b',
      'leave:c',
      'end:completed',
      ]),
    );
    const ended = await t.app.store.findConference(t.accountSid, a.conference.sid);
    expect(ended).toMatchObject({
      status: 'completed',
      reasonConferenceEnded: 'participant-with-end-conference-on-exit-kicked',
      callSidEndingConference: a.participant.callSid,
    });
    expect(await t.app.store.listAllParticipants(a.conference.sid)).toEqual([]);
  });

  it('ends when the last participant leaves, and the name then makes a new conference', async () => {
    const a = await t.join('room');
    await removeParticipant(t.app.services, { accountSid: t.accountSid, conferenceSid: a.conference.sid, participant: a.participant.callSid }, { reason: 'hung-up' });
    expect((await t.app.store.findConference(t.accountSid, a.conference.sid))?.reasonConferenceEnded).toBe('last-participant-left');
    const again = await t.join('room');
    expect(again.conference.sid).not.toBe(a.conference.sid);
  });

  it('ends through the API, removing everyone', async () => {
    const a = await t.join('room');
    await t.join('room');
    const ended = await endConference(t.app.services, t.accountSid, a.conference.sid);
    expect(ended.reasonConferenceEnded).toBe('conference-ended-via-api');
    await until(() => expect(events.slice(-3).map((e) => e.type)).toEqual(['leave', 'leave', 'end']));
    // Ending it again changes nothing.
    expect((await endConference(t.app.services, t.accountSid, a.conference.sid)).dateUpdated).toBe(ended.dateUpdated);
  });

  it('refuses one more than maxParticipants, set by the first participant', async () => {
    await t.join('small', { maxParticipants: 2 });
    await t.join('small', { maxParticipants: 250 });
    await expect(t.join('small')).rejects.toMatchObject({ code: 16020 });
    await expect(t.join('x', { maxParticipants: 1 })).rejects.toMatchObject({ code: 20001 });
    await expect(t.join('x', { maxParticipants: 251 })).rejects.toMatchObject({ code: 20001 });
  });

  it('refuses a label already used in the conference', async () => {
    await t.join('room', { label: 'same' });
    await expect(t.join('room', { label: 'same' })).rejects.toMatchObject({ code: 20001 });
  });

  it('concurrent first joins make one conference with everybody in it', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.join('rush', { label: `p${i}` })));
    const sids = new Set(results.map((r) => r.conference.sid));
    expect(sids.size).toBe(1);
    const [sid] = [...sids];
    expect(await t.app.store.listAllParticipants(sid!)).toHaveLength(12);
    await until(() => expect(events.filter((e) => e.type === 'start')).toHaveLength(1));
    // Only one: every event of the rush has arrived once the last join's has.
    await until(() => expect(events.filter((e) => e.type === 'join')).toHaveLength(12));
    expect(events.filter((e) => e.type === 'start')).toHaveLength(1);
  });

  it('concurrent joins never go past maxParticipants', async () => {
    await t.join('cap', { maxParticipants: 5 });
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => t.join('cap')));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(4);
    expect(settled.filter((s) => s.status === 'rejected').every((s) => (s as PromiseRejectedResult).reason.code === 16020)).toBe(true);
  });
});
