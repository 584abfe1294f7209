/**
 * The conference rules as pure functions: start, end on exit, last leaver, capacity, coaching,
 * the events each change emits, and what each participant hears.
 */
import { describe, expect, it } from 'vitest';
import { end, join, leave, progress, shouldStart } from '../../src/domain/conference-rules.js';
import { mediaStateOf } from '../../src/domain/media-state.js';
import type { ConferenceEvent } from '../../src/domain/events.js';
import type { Conference, Participant } from '../../src/domain/model.js';
import { beepWithExit, changeParticipant } from '../../src/domain/participant-rules.js';
import { RuleViolation } from '../../src/errors.js';
import { aConference, aParticipant } from '../helpers/fixtures.js';

const T0 = 1_000_000;

const ROOM = { sid: 'CF00000000000000000000000000000001', accountSid: 'AC00000000000000000000000000000001' };

function conference(over: Partial<Conference> = {}): Conference {
  return aConference({ ...ROOM, friendlyName: 'room', ...over }, T0);
}

function participant(over: Partial<Participant> = {}): Participant {
  return aParticipant(ROOM, over, T0);
}

/** No call goes on with TwiML after its conference (Create Participant calls). */
const leaves = (events: readonly ConferenceEvent[]): { reason: unknown; status: unknown }[] =>
  events.filter((e) => e.type === 'leave').map((e) => ({ reason: 'leaveReason' in e ? e.leaveReason : undefined, status: 'callStatus' in e ? e.callStatus : undefined }));

describe('starting a conference', () => {
  it('stays init with one participant, even a moderator', () => {
    const t = join(conference(), [], participant(), T0 + 1);
    expect(t.conference.status).toBe('init');
    expect(t.events.map((e) => e.type)).toEqual(['join']);
  });

  it('starts when a second participant joins and one has startConferenceOnEnter', () => {
    const first = participant({ startConferenceOnEnter: false });
    const t = join(conference(), [first], participant({ startConferenceOnEnter: true }), T0 + 1);
    expect(t.conference.status).toBe('in-progress');
    expect(t.events.map((e) => e.type)).toEqual(['join', 'start']);
    expect(t.conference.dateUpdated).toBe(T0 + 1);
  });

  it('waits while nobody present has startConferenceOnEnter', () => {
    const present = [participant({ startConferenceOnEnter: false })];
    const t = join(conference(), present, participant({ startConferenceOnEnter: false }), T0 + 1);
    expect(t.conference.status).toBe('init');
    expect(shouldStart(t.conference, [...present, ...t.added])).toBe(false);
  });

  it('does not count participants that are not connected yet', () => {
    const ringing = participant({ status: 'ringing' });
    expect(join(conference(), [ringing], participant(), T0).conference.status).toBe('init');
  });
});

describe('capacity and duplicates', () => {
  it('refuses one more than maxParticipants with Twilio error 16020', () => {
    const full = [participant(), participant()];
    const c = conference({ maxParticipants: 2, status: 'in-progress' });
    expect(() => join(c, full, participant(), T0)).toThrow(expect.objectContaining({ code: 16020 }));
  });

  it('refuses a call already in the conference, and a completed conference', () => {
    const p = participant();
    expect(() => join(conference(), [p], p, T0)).toThrow(RuleViolation);
    expect(() => join(conference({ status: 'completed' }), [], participant(), T0)).toThrow(RuleViolation);
  });
});

describe('leaving and ending', () => {
  it('the last participant leaving ends the conference', () => {
    const p = participant();
    const t = leave(conference(), [p], p.callSid, { reason: 'hung-up' }, T0 + 5);
    expect(t.conference).toMatchObject({ status: 'completed', reasonConferenceEnded: 'last-participant-left', callSidEndingConference: p.callSid });
    expect(t.events.map((e) => e.type)).toEqual(['leave', 'end']);
    expect(leaves(t.events)).toEqual([{ reason: 'hung-up', status: 'completed' }]);
    expect(t.events.at(-1)).toMatchObject({ type: 'end', endedBy: p });
    expect(t.removed).toEqual([p]);
  });

  it('the last participant kicked ends it with last-participant-kicked', () => {
    const p = participant();
    expect(leave(conference(), [p], p.callSid, { reason: 'removed-via-api' }, T0).conference.reasonConferenceEnded).toBe('last-participant-kicked');
    // Hung up or redirected through the Calls API: it left, it was not kicked.
    expect(leave(conference(), [p], p.callSid, { reason: 'hung-up-via-api' }, T0).conference.reasonConferenceEnded).toBe('last-participant-left');
  });

  it('an endConferenceOnExit participant leaving removes everyone', () => {
    const boss = participant({ endConferenceOnExit: true });
    // The first of the others has TwiML after its conference; the second has not.
    const others = [participant({ goesOn: true }), participant()];
    const t = leave(conference({ status: 'in-progress' }), [boss, ...others], boss.callSid, { reason: 'hung-up' }, T0 + 9);
    expect(t.conference).toMatchObject({
      status: 'completed',
      reasonConferenceEnded: 'participant-with-end-conference-on-exit-left',
      callSidEndingConference: boss.callSid,
      dateUpdated: T0 + 9,
    });
    expect(t.removed.map((p) => p.callSid)).toEqual([boss, ...others].map((p) => p.callSid));
    expect(t.events.map((e) => e.type)).toEqual(['leave', 'leave', 'leave', 'end']);
    // The others leave because the moderator did; one goes on with its TwiML, the other ends.
    expect(leaves(t.events)).toEqual([
      { reason: 'hung-up', status: 'completed' },
      { reason: 'ended-by-moderator', status: 'in-progress' },
      { reason: 'ended-by-moderator', status: 'completed' },
    ]);
  });

  it('kicking an endConferenceOnExit participant ends with the -kicked reason', () => {
    const boss = participant({ endConferenceOnExit: true, goesOn: true });
    const t = leave(conference({ status: 'in-progress' }), [boss, participant({ goesOn: true })], boss.callSid, { reason: 'removed-via-api' }, T0);
    expect(t.conference.reasonConferenceEnded).toBe('participant-with-end-conference-on-exit-kicked');
    expect(leaves(t.events)).toEqual([
      { reason: 'removed-via-api', status: 'in-progress' },
      { reason: 'ended-by-moderator', status: 'in-progress' },
    ]);
  });

  it('an ordinary participant leaving keeps the conference going', () => {
    const a = participant();
    const b = participant();
    const t = leave(conference({ status: 'in-progress' }), [a, b], a.callSid, { reason: 'redirected-via-api' }, T0);
    expect(t.conference.status).toBe('in-progress');
    expect(t.events.map((e) => e.type)).toEqual(['leave']);
    // A redirected call goes on with its new TwiML.
    expect(leaves(t.events)).toEqual([{ reason: 'redirected-via-api', status: 'in-progress' }]);
  });

  it("a dialled participant that was never answered leaves with add-failed and its call's status", () => {
    const host = participant();
    const dialled = participant({ status: 'ringing' });
    const t = leave(conference(), [host, dialled], dialled.callSid, { reason: 'add-failed', callStatus: 'busy' }, T0);
    expect(t.events).toHaveLength(1);
    expect(t.events[0]).toMatchObject({ type: 'leave', leaveReason: 'add-failed', callStatus: 'busy', participant: { status: 'failed' } });
    expect(t.conference.status).toBe('init');
  });

  it('ending through the API removes everyone with conference-ended-via-api', () => {
    const t = end(conference({ status: 'in-progress' }), [participant({ goesOn: true }), participant({ goesOn: true })], 'conference-ended-via-api', null, T0);
    expect(t.conference).toMatchObject({ status: 'completed', reasonConferenceEnded: 'conference-ended-via-api', callSidEndingConference: null });
    expect(t.removed).toHaveLength(2);
    expect(leaves(t.events)).toEqual([
      { reason: 'conference-ended-via-api', status: 'in-progress' },
      { reason: 'conference-ended-via-api', status: 'in-progress' },
    ]);
    expect(t.events.at(-1)).not.toHaveProperty('endedBy');
    expect(() => end(t.conference, [], 'conference-ended-via-api', null, T0)).toThrow(RuleViolation);
  });
});

describe('changing a participant', () => {
  it('emits mute/unmute and hold/unhold only on a change, with a new dateUpdated', () => {
    const p = participant();
    const c = conference({ status: 'in-progress' });
    const muted = changeParticipant(c, [p], p.callSid, { muted: true, hold: true }, T0 + 3);
    expect(muted.events.map((e) => e.type)).toEqual(['mute', 'hold']);
    expect(muted.saved[0]).toMatchObject({ muted: true, hold: true, dateUpdated: T0 + 3 });
    const again = changeParticipant(c, muted.saved, p.callSid, { muted: true }, T0 + 4);
    expect(again.events).toEqual([]);
    const back = changeParticipant(c, muted.saved, p.callSid, { muted: false, hold: false }, T0 + 5);
    expect(back.events.map((e) => e.type)).toEqual(['unmute', 'unhold']);
  });

  it('emits modify for coaching, end-on-exit and beep changes', () => {
    const a = participant();
    const b = participant();
    const c = conference({ status: 'in-progress' });
    const t = changeParticipant(c, [a, b], a.callSid, { callSidToCoach: b.callSid, endConferenceOnExit: true }, T0);
    expect(t.events.map((e) => e.type)).toEqual(['modify']);
    expect(t.saved[0]).toMatchObject({ coaching: true, callSidToCoach: b.callSid, endConferenceOnExit: true });
  });

  it('refuses changes to a participant that is not connected', () => {
    const ringing = participant({ status: 'ringing' });
    expect(() => changeParticipant(conference(), [ringing], ringing.callSid, { muted: true }, T0)).toThrow(
      expect.objectContaining({ code: 21220 }),
    );
  });

  it('BeepOnExit turns the exit beep on and off, keeping the enter beep', () => {
    expect(beepWithExit('true', false)).toBe('onEnter');
    expect(beepWithExit('onEnter', true)).toBe('true');
    expect(beepWithExit('false', true)).toBe('onExit');
    expect(beepWithExit('onExit', false)).toBe('false');
  });
});

describe('what each participant hears (for the media plane)', () => {
  it('wait music before the start, the room after, hold music on hold', () => {
    const p = participant();
    expect(mediaStateOf(conference({ status: 'init' }), p)).toEqual({ hears: 'wait-music', heard: false, heardOnlyBy: null });
    expect(mediaStateOf(conference({ status: 'in-progress' }), p)).toEqual({ hears: 'conference', heard: true, heardOnlyBy: null });
    expect(mediaStateOf(conference({ status: 'in-progress' }), { ...p, hold: true }).hears).toBe('hold-music');
    expect(mediaStateOf(conference({ status: 'in-progress' }), { ...p, muted: true }).heard).toBe(false);
    const coach = { ...p, coaching: true, callSidToCoach: 'CA1' };
    expect(mediaStateOf(conference({ status: 'in-progress' }), coach).heardOnlyBy).toBe('CA1');
  });
});

describe('participants that are dialled (Create Participant)', () => {
  it('are listed while queued and ringing, and join — and may start it — when they connect', () => {
    const moderator = participant();
    const c = conference();
    const dialled = participant({ status: 'queued' });
    const queued = join(c, [moderator], dialled, T0);
    expect(queued.events).toEqual([]);
    expect(queued.added).toEqual([dialled]);
    expect(queued.conference.status).toBe('init');
    const ringing = progress(queued.conference, [moderator, dialled], dialled.callSid, 'ringing', T0 + 1);
    expect(ringing.saved[0]?.status).toBe('ringing');
    expect(ringing.events).toEqual([]);
    const connected = progress(ringing.conference, [moderator, ringing.saved[0]!], dialled.callSid, 'connected', T0 + 2);
    expect(connected.events.map((e) => e.type)).toEqual(['join', 'start']);
    expect(connected.conference.status).toBe('in-progress');
  });

  it('leave without a leave event when they never connected', () => {
    const moderator = participant();
    const dialled = participant({ status: 'ringing' });
    const t = leave(conference({ status: 'in-progress' }), [moderator, dialled], dialled.callSid, { reason: 'removed-via-api' }, T0);
    expect(t.events).toEqual([]);
    expect(t.removed).toEqual([dialled]);
  });
});
