/**
 * Records to start tests from: a conference and a participant with Twilio's defaults and fresh
 * SIDs, overridden field by field.
 */
import type { Conference, Participant } from '../../src/domain/model.js';
import { newSid } from '../../src/domain/sids.js';

export function aConference(overrides: Partial<Conference> = {}, at = 1_750_000_000_000): Conference {
  return {
    sid: newSid('CF'),
    accountSid: newSid('AC'),
    friendlyName: `room-${newSid('CF').slice(2, 10)}`,
    status: 'init',
    region: 'us1',
    maxParticipants: 250,
    reasonConferenceEnded: null,
    callSidEndingConference: null,
    statusCallback: null,
    dateCreated: at,
    dateUpdated: at,
    ...overrides,
  };
}

export function aParticipant(conference: Pick<Conference, 'sid' | 'accountSid'>, overrides: Partial<Participant> = {}, at = 1_750_000_000_000): Participant {
  return {
    callSid: newSid('CA'),
    conferenceSid: conference.sid,
    accountSid: conference.accountSid,
    label: null,
    status: 'connected',
    muted: false,
    hold: false,
    coaching: false,
    callSidToCoach: null,
    startConferenceOnEnter: true,
    endConferenceOnExit: false,
    beep: 'true',
    queueTime: null,
    dateCreated: at,
    dateUpdated: at,
    ...overrides,
  };
}
