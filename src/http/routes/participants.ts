/**
 * The Participants resource of the seed: fetch, update (mute, hold, coaching…), kick (204) and
 * list with the `Muted`, `Hold` and `Coaching` filters. A participant is addressed by call SID or
 * by its percent-encoded label (twilio-oai FetchParticipant `{CallSid}`). POST on the list
 * dials a new participant in (CreateParticipant).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, invalidParameter, missingParameter } from '../../errors.js';
import { CONFERENCE_CALLBACK_EVENTS, type BeepSetting } from '../../domain/model.js';
import { isSid } from '../../domain/sids.js';
import type { CallServiceContext } from '../../services/calls/call-service-context.js';
import { createParticipant } from '../../services/calls/create-participant.js';
import { getParticipant, listParticipants } from '../../services/read-conferences.js';
import { removeParticipant } from '../../services/remove-participant.js';
import { cancelCall } from '../../services/cluster/call-commands.js';
import { updateParticipantWithAudio } from '../../services/calls/participant-audio.js';
import type { AudioUrlRequest } from '../../services/calls/conference-audio-scheduler.js';
import { bool, oneOf, sid, text, type Params } from '../form-params.js';
import { callRecordingOf, durationAndCallerIdOf, enumList, METHODS, progressEvents, sipAuthOf, timeout, url } from './calls.js';
import { RECORDING_CALLBACK_EVENTS } from '../../domain/recording.js';
import type { ConferenceRecordingPlan } from '../../services/recordings/live-recordings.js';
import { recordingCallback } from '../../services/recordings/recording-callback.js';
import { parsePaging } from '../representation/list-page.js';
import { participantShape } from '../representation/participant-shape.js';
import { conferencePath } from '../representation/uris.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Conferences/:ConferenceSid/Participants';
const FILTERS = ['Muted', 'Hold', 'Coaching'] as const;
/**
 * `HoldUrl` → `{ holdUrl: { url, method } }` (key from the parameter name), or nothing when
 * absent. WaitUrl may be empty: silence.
 */
export function audioUrl(form: Params, urlName: string, methodName: string, defaultMethod: 'GET' | 'POST'): Record<string, AudioUrlRequest> {
  const raw = text(form, urlName);
  if (raw === undefined) return {};
  const key = urlName.charAt(0).toLowerCase() + urlName.slice(1);
  const value = raw === '' && urlName === 'WaitUrl' ? '' : url(form, urlName);
  if (value === null) return {};
  return { [key]: { url: value, method: oneOf(form, methodName, METHODS) ?? defaultMethod } };
}

/**
 * `ConferenceRecord` and its parameters (twilio-oai CreateParticipant): the conference is
 * recorded from its start when the participant created it ("the participant who starts the
 * conference sets it"); `true` and `record-from-start` ask for it.
 */
function conferenceRecordingOf(form: Params): { conferenceRecord?: ConferenceRecordingPlan } {
  const record = oneOf(form, 'ConferenceRecord', ['true', 'false', 'record-from-start', 'do-not-record']);
  const callback = url(form, 'ConferenceRecordingStatusCallback');
  const method = oneOf(form, 'ConferenceRecordingStatusCallbackMethod', METHODS) ?? 'POST';
  const events = enumList(form, 'ConferenceRecordingStatusCallbackEvent', RECORDING_CALLBACK_EVENTS);
  const trim = oneOf(form, 'ConferenceTrim', ['trim-silence', 'do-not-trim']);
  if (record !== 'true' && record !== 'record-from-start') return {};
  return { conferenceRecord: { trim: (trim ?? 'trim-silence') === 'trim-silence', statusCallback: recordingCallback(callback, method, events) } };
}

const BEEPS: readonly BeepSetting[] = ['true', 'false', 'onEnter', 'onExit'];

/**
 * Twilio error 16024: a participant label "may not exceed 128 characters, it may not be a
 * CallSid, and it may not contain a '/'" (https://www.twilio.com/docs/api/errors/16024).
 */
const INVALID_LABEL = 16024;
const LABEL_MAX = 128;
/** Twilio error 13237: "Conference names must be between 1 and 128 characters". */
const CONFERENCE_NAME_MAX = 128;

function label(form: Params): string | null {
  const value = text(form, 'Label');
  if (!value) return null;
  const invalid = (why: string): ApiError => new ApiError(400, INVALID_LABEL, `Invalid Label: ${why}`);
  if (value.length > LABEL_MAX) throw invalid(`must be at most ${LABEL_MAX} characters (it has ${value.length})`);
  if (/^CA[0-9a-fA-F]{32}$/.test(value)) throw invalid('must not be a CallSid');
  if (value.includes('/')) throw invalid("must not contain '/'");
  return value;
}

/** The conference of Create Participant: a CF SID, or the FriendlyName of the conference to join or start. */
function conferenceOf(name: string): string {
  if (!isSid(name, 'CF') && name.length > CONFERENCE_NAME_MAX) {
    throw invalidParameter('ConferenceSid', `a conference FriendlyName is at most ${CONFERENCE_NAME_MAX} characters (it has ${name.length})`);
  }
  return name;
}

export function registerParticipantRoutes(app: FastifyInstance, ctx: CallServiceContext): void {
  resource(app, LIST, {
    POST: async (request, reply) => {
      const form = formOf(request);
      const recording = { ...callRecordingOf(form), ...conferenceRecordingOf(form) };
      const to = text(form, 'To');
      const from = text(form, 'From');
      if (!to) throw missingParameter('To');
      if (!from) throw missingParameter('From');
      const conferenceCallback = url(form, 'ConferenceStatusCallback');
      const conferenceEvents = enumList(form, 'ConferenceStatusCallbackEvent', CONFERENCE_CALLBACK_EVENTS);
      const maxParticipants = text(form, 'MaxParticipants');
      if (maxParticipants !== undefined && !/^\d+$/.test(maxParticipants)) throw invalidParameter('MaxParticipants', 'must be a whole number from 2 to 250');
      const participant = await createParticipant(ctx, {
        accountSid: accountOf(request).sid,
        conference: conferenceOf(paramsOf(request).ConferenceSid!),
        from,
        to,
        label: label(form),
        muted: bool(form, 'Muted') ?? false,
        hold: bool(form, 'Hold') ?? false,
        startConferenceOnEnter: bool(form, 'StartConferenceOnEnter') ?? true,
        endConferenceOnExit: bool(form, 'EndConferenceOnExit') ?? false,
        beep: oneOf(form, 'Beep', BEEPS) ?? 'true',
        maxParticipants: maxParticipants === undefined ? 250 : Number(maxParticipants),
        coaching: bool(form, 'Coaching'),
        callSidToCoach: sid(form, 'CallSidToCoach', 'CA'),
        timeout: timeout(form),
        ...sipAuthOf(form),
        ...durationAndCallerIdOf(form),
        statusCallback: url(form, 'StatusCallback'),
        statusCallbackMethod: oneOf(form, 'StatusCallbackMethod', METHODS) ?? 'POST',
        statusCallbackEvents: progressEvents(form, 'StatusCallbackEvent'),
        conferenceStatusCallback: conferenceCallback
          ? {
              url: conferenceCallback,
              method: oneOf(form, 'ConferenceStatusCallbackMethod', METHODS) ?? 'POST',
              events: conferenceEvents ?? ['start', 'end'],
            }
          : null,
        ...(() => {
          const wait = audioUrl(form, 'WaitUrl', 'WaitMethod', 'POST').waitUrl;
          return wait ? { waitUrl: wait } : {};
        })(),
        ...recording,
      });
      sendInstance(reply, request, participantShape, participant, 201);
    },
    GET: async (request, reply) => {
      const account = accountOf(request);
      const { ConferenceSid } = paramsOf(request);
      const query = queryOf(request);
      const list = parsePaging(query);
      const filter = {
        conferenceSid: ConferenceSid!,
        muted: bool(query, 'Muted'),
        hold: bool(query, 'Hold'),
        coaching: bool(query, 'Coaching'),
      };
      const result = await listParticipants(ctx, account.sid, filter, list.page);
      const path = `${conferencePath(account.sid, ConferenceSid!)}/Participants`;
      sendList(reply, request, participantShape, path, echoFilters(query, FILTERS), list, result);
    },
  });

  resource(app, `${LIST}/:CallSid`, {
    GET: async (request, reply) => {
      const { ConferenceSid, CallSid } = paramsOf(request);
      const participant = await getParticipant(ctx, accountOf(request).sid, ConferenceSid!, CallSid!);
      sendInstance(reply, request, participantShape, participant);
    },
    POST: async (request, reply) => {
      const { ConferenceSid, CallSid } = paramsOf(request);
      const form = formOf(request);
      const change = {
        muted: bool(form, 'Muted', true),
        hold: bool(form, 'Hold'),
        coaching: bool(form, 'Coaching'),
        callSidToCoach: sid(form, 'CallSidToCoach', 'CA'),
        endConferenceOnExit: bool(form, 'EndConferenceOnExit'),
        beepOnExit: bool(form, 'BeepOnExit'),
      };
      const address = { accountSid: accountOf(request).sid, conferenceSid: ConferenceSid!, participant: CallSid! };
      const participant = await updateParticipantWithAudio(ctx, address, change, {
        ...audioUrl(form, 'HoldUrl', 'HoldMethod', 'GET'),
        ...audioUrl(form, 'AnnounceUrl', 'AnnounceMethod', 'POST'),
        ...audioUrl(form, 'WaitUrl', 'WaitMethod', 'POST'),
      });
      sendInstance(reply, request, participantShape, participant);
    },
    DELETE: async (request, reply) => {
      const { ConferenceSid, CallSid } = paramsOf(request);
      const removed = await removeParticipant(ctx, { accountSid: accountOf(request).sid, conferenceSid: ConferenceSid!, participant: CallSid! }, { reason: 'removed-via-api' });
      // A participant still being dialled has no room to leave: its ringing call is cancelled.
      if (removed.status !== 'connected') await cancelCall(ctx, removed.callSid);
      void reply.code(204).send();
    },
  });
}
