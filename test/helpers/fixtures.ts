/**
 * Records to start tests from: a conference, a participant, a call and a recording with Twilio's
 * defaults and fresh SIDs, overridden field by field.
 */
import type { Call } from '../../src/domain/call.js';
import type { Conference, Participant } from '../../src/domain/model.js';
import type { Recording } from '../../src/domain/recording.js';
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

/** A queued outbound call of the account, with Twilio's defaults; `overrides` win. */
export function aCall(accountSid: string, overrides: Partial<Call> = {}, at = 1_750_000_000_000): Call {
  return {
    sid: newSid('CA'),
    accountSid,
    parentCallSid: null,
    to: 'sim:alice',
    from: '+15005550006',
    phoneNumberSid: null,
    status: 'queued',
    direction: 'outbound-api',
    timeout: 60,
    startTime: null,
    endTime: null,
    duration: null,
    queueTime: 0,
    url: 'http://127.0.0.1:9/twiml',
    method: 'POST',
    fallbackUrl: null,
    fallbackMethod: 'POST',
    twiml: null,
    statusCallback: 'http://127.0.0.1:9/status',
    statusCallbackMethod: 'POST',
    statusCallbackEvents: ['initiated', 'completed'],
    dateCreated: at,
    dateUpdated: at,
    ...overrides,
  };
}

/** A completed mono recording of a call of the account; `overrides` win. */
export function aRecording(accountSid: string, overrides: Partial<Recording> = {}, at = 1_750_000_000_000): Recording {
  return {
    sid: newSid('RE'),
    accountSid,
    callSid: newSid('CA'),
    conferenceSid: null,
    status: 'completed',
    source: 'StartCallRecordingAPI',
    channels: 1,
    track: 'both',
    trim: false,
    pauseBehavior: 'silence',
    startTime: at,
    duration: 12,
    errorCode: null,
    statusCallback: null,
    nodeId: null,
    dateCreated: at,
    dateUpdated: at,
    ...overrides,
  };
}
