/**
 * The Calls resource (twilio-oai CreateCall, FetchCall, ListCall, UpdateCall, DeleteCall): place
 * a call driven by `Url` or `Twiml`, watch it, hang it up or redirect it, delete its record.
 * With both `Url` and `Twiml`, `Url` wins and `Twiml` is ignored, as twilio-oai documents;
 * `Twiml` holds at most 4,000 characters (Twilio error 32018).
 */
import type { FastifyInstance } from 'fastify';
import { CALL_PROGRESS_EVENTS, type Call, type CallProgressEvent, type CallStatus, type HttpMethod } from '../../domain/call.js';
import { parseEndpoint } from '../../domain/endpoint.js';
import { ApiError, invalidParameter, missingParameter, ResourceNotFound, TwilioCode } from '../../errors.js';
import type { CallServiceContext } from '../../services/calls/call-service-context.js';
import { createCall } from '../../services/calls/create-call.js';
import { callRecording } from '../../services/cluster/call-commands.js';
import { receiveCall } from '../../services/calls/receive-call.js';
import type { StartCallRecording } from '../../services/recordings/control-recordings.js';
import { recordingCallback } from '../../services/recordings/recording-callback.js';
import { RECORDING_CALLBACK_EVENTS } from '../../domain/recording.js';
import { deleteCall, getCall, listCalls, updateCall } from '../../services/calls/update-call.js';
import { MAX_TIME_LIMIT_S } from '../../services/calls/call-session.js';
import { isSendableDigits, SENDABLE_DIGITS_RULE } from '../../twiml/dtmf-digits.js';
import { bool, dateRange, oneOf, text, type Params } from '../form-params.js';
import { callShape } from '../representation/call-shape.js';
import { parsePaging } from '../representation/list-page.js';
import { accountPath } from '../representation/uris.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Calls';
export const METHODS: readonly HttpMethod[] = ['GET', 'POST'];
const STATUSES: readonly CallStatus[] = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];
const FILTERS = ['To', 'From', 'Status', 'ParentCallSid', 'StartTime', 'StartTime<', 'StartTime>', 'EndTime', 'EndTime<', 'EndTime>'];

/** Twilio's limit on a URL parameter: 4,000 characters (https://www.twilio.com/docs/api/errors/21609). */
const URL_MAX = 4000;

/** An absolute http(s) URL of at most 4,000 characters, or a 400 naming the field. */
export function url(params: Params, name: string): string | null {
  const value = text(params, name);
  if (value === undefined || value === '') return null;
  if (value.length > URL_MAX) throw invalidParameter(name, `must be a URL of at most ${URL_MAX} characters (it has ${value.length})`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw invalidParameter(name, `"${value}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidParameter(name, 'must be an http or https URL');
  return value;
}

/** Repeated (`X=a&X=b`, as twilio-node sends) or space-separated (as Twilio's docs write) values. */
export function list(params: Params, name: string): string[] | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  return [raw].flat().flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== '');
}

/** A list of enum values, matched without regard to case (as Twilio does) and returned in their own spelling. */
export function enumList<T extends string>(params: Params, name: string, allowed: readonly T[]): T[] | undefined {
  return list(params, name)?.map((value) => {
    const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (match === undefined) throw invalidParameter(name, `"${value}" is not one of ${allowed.join(', ')}`);
    return match;
  });
}

export function progressEvents(params: Params, name: string): CallProgressEvent[] | undefined {
  return enumList(params, name, CALL_PROGRESS_EVENTS);
}

/** Twilio error 32018: "Twiml size exceeded maximum allowed value of 4000 characters". */
const TWIML_TOO_LONG = 32018;
const MAX_TWIML = 4000;

/**
 * The application of a create or update: `Url` wins over `Twiml` ("If both twiml and url are
 * provided then twiml parameter will be ignored", twilio-oai CreateCall); `Twiml` is at most
 * 4,000 characters. Undefined when the request names neither.
 */
export function applicationParams(form: Params): { url: string | null; twiml: string | null } | undefined {
  const target = url(form, 'Url');
  const inline = text(form, 'Twiml') || null;
  if (target !== null) return { url: target, twiml: null };
  if (inline === null) return undefined;
  if (inline.length > MAX_TWIML) {
    throw new ApiError(400, TWIML_TOO_LONG, `Twiml size exceeded maximum allowed value of ${MAX_TWIML} characters (it has ${inline.length})`);
  }
  return { url: null, twiml: inline };
}

/**
 * `Record=true` and its parameters (twilio-oai CreateCall, CreateParticipant): the call is
 * recorded from its answer to its end. Enums match without regard to case, as Twilio's do;
 * defaults are Twilio's: mono, both tracks, trim-silence, a callback on `completed`.
 */
export function callRecordingOf(form: Params): { record?: StartCallRecording } {
  const callback = url(form, 'RecordingStatusCallback');
  const method = oneOf(form, 'RecordingStatusCallbackMethod', METHODS) ?? 'POST';
  const events = enumList(form, 'RecordingStatusCallbackEvent', RECORDING_CALLBACK_EVENTS);
  const channels = oneOf(form, 'RecordingChannels', ['mono', 'dual']);
  const track = oneOf(form, 'RecordingTrack', ['inbound', 'outbound', 'both']);
  const trim = oneOf(form, 'Trim', ['trim-silence', 'do-not-trim']);
  if (bool(form, 'Record') !== true) return {};
  return {
    record: {
      channels: channels === 'dual' ? 2 : 1,
      track: track ?? 'both',
      trim: (trim ?? 'trim-silence') === 'trim-silence',
      statusCallback: recordingCallback(callback, method, events),
    },
  };
}

export function timeout(params: Params): number {
  const value = text(params, 'Timeout');
  if (value === undefined || value === '') return 60;
  if (!/^\d+$/.test(value)) throw invalidParameter('Timeout', 'must be a whole number of seconds');
  return Math.min(600, Math.max(5, Number(value)));
}

/**
 * `TimeLimit` (twilio-oai CreateCall, CreateParticipant: "the maximum duration of the call in
 * seconds"), a whole number from 1 to 86400; absent, the call's default (four hours).
 * `CallerId`: the caller ID shown instead of `From`, checked as `From` is.
 */
export function durationAndCallerIdOf(form: Params): { timeLimit?: number; callerId?: string } {
  const callerId = text(form, 'CallerId');
  return { ...timeLimitOf(form), ...(callerId ? { callerId } : {}) };
}

/** `TimeLimit`, a whole number of seconds from 1 to 86400, when given. */
function timeLimitOf(form: Params): { timeLimit?: number } {
  const limit = text(form, 'TimeLimit');
  if (limit === undefined || limit === '') return {};
  if (!/^\d{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_TIME_LIMIT_S) {
    throw invalidParameter('TimeLimit', `must be a whole number of seconds from 1 to ${MAX_TIME_LIMIT_S} (it is "${limit}")`);
  }
  return { timeLimit: Number(limit) };
}

/** Twilio's limit on SendDigits: "a maximum length of 32 digits" (twilio-oai CreateCall). */
const MAX_SEND_DIGITS = 32;

/** `SendDigits`: keys and pauses (0–9, A–D, `*`, `#`, `w`, `W`), at most 32. */
export function sendDigitsOf(form: Params): { sendDigits?: string } {
  const digits = text(form, 'SendDigits');
  if (digits === undefined || digits === '') return {};
  if (digits.length > MAX_SEND_DIGITS) throw invalidParameter('SendDigits', `must be at most ${MAX_SEND_DIGITS} keys (it has ${digits.length})`);
  if (!isSendableDigits(digits)) throw invalidParameter('SendDigits', SENDABLE_DIGITS_RULE.replace(/^it /, ''));
  return { sendDigits: digits };
}

/** SipAuthUsername and SipAuthPassword go together (twilio-oai CreateCall). */
export function sipAuthOf(form: Params): { sipAuth?: { username: string; password: string } } {
  const username = text(form, 'SipAuthUsername');
  const password = text(form, 'SipAuthPassword');
  if (username === undefined && password === undefined) return {};
  if (!username || password === undefined) throw new ApiError(400, TwilioCode.invalidParameter, 'SipAuthUsername and SipAuthPassword go together');
  return { sipAuth: { username, password } };
}

/** Whether the call's To or From is a `sim:…;record` endpoint, the only kind with a SimulatedAudio. */
function recordsAudio(call: Call): boolean {
  return [call.to, call.from].some((address) => {
    const endpoint = parseEndpoint(address);
    return typeof endpoint !== 'string' && endpoint.kind === 'sim' && endpoint.record;
  });
}

export function registerCallRoutes(app: FastifyInstance, ctx: CallServiceContext): void {
  resource(app, LIST, {
    POST: async (request, reply) => {
      const form = formOf(request);
      const to = text(form, 'To');
      const from = text(form, 'From');
      if (!to) throw missingParameter('To');
      if (!from) throw missingParameter('From');
      const recording = callRecordingOf(form);
      const application = applicationParams(form);
      const call = await createCall(ctx, {
        accountSid: accountOf(request).sid,
        to,
        from,
        url: application?.url ?? null,
        method: oneOf(form, 'Method', METHODS) ?? 'POST',
        fallbackUrl: url(form, 'FallbackUrl'),
        fallbackMethod: oneOf(form, 'FallbackMethod', METHODS) ?? 'POST',
        twiml: application?.twiml ?? null,
        statusCallback: url(form, 'StatusCallback'),
        statusCallbackMethod: oneOf(form, 'StatusCallbackMethod', METHODS) ?? 'POST',
        statusCallbackEvents: progressEvents(form, 'StatusCallbackEvent'),
        timeout: timeout(form),
        ...sipAuthOf(form),
        ...sendDigitsOf(form),
        ...durationAndCallerIdOf(form),
        ...recording,
        ...(text(form, 'ApplicationSid') ? { applicationSid: text(form, 'ApplicationSid')! } : {}),
      });
      sendInstance(reply, request, callShape, call, 201);
    },
    GET: async (request, reply) => {
      const account = accountOf(request);
      const query = queryOf(request);
      const page = parsePaging(query);
      const filter = {
        accountSid: account.sid,
        to: text(query, 'To'),
        from: text(query, 'From'),
        status: oneOf(query, 'Status', STATUSES),
        parentCallSid: text(query, 'ParentCallSid'),
        startTime: dateRange(query, 'StartTime'),
        endTime: dateRange(query, 'EndTime'),
      };
      const result = await listCalls(ctx, filter, page.page);
      sendList(reply, request, callShape, `${accountPath(account.sid)}/Calls`, echoFilters(query, FILTERS), page, result);
    },
  });

  // Conclave only (Twilio has no such resource): a simulated phone calls a number of the account.
  resource(app, '/2010-04-01/Accounts/:AccountSid/SimulatedCalls', {
    POST: async (request, reply) => {
      const form = formOf(request);
      const from = text(form, 'From');
      const to = text(form, 'To');
      if (!from) throw missingParameter('From');
      if (!to) throw missingParameter('To');
      sendInstance(reply, request, callShape, await receiveCall(ctx, accountOf(request).sid, from, to), 201);
    },
  });

  resource(app, `${LIST}/:CallSid`, {
    GET: async (request, reply) => {
      sendInstance(reply, request, callShape, await getCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!));
    },
    POST: async (request, reply) => {
      const form = formOf(request);
      const status = oneOf(form, 'Status', ['canceled', 'completed'] as const);
      const given = applicationParams(form);
      const application = given
        ? { ...given, method: oneOf(form, 'Method', METHODS) ?? 'POST', fallbackUrl: url(form, 'FallbackUrl'), fallbackMethod: oneOf(form, 'FallbackMethod', METHODS) ?? 'POST' }
        : undefined;
      const call = await updateCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!, {
        ...(status ? { status } : {}),
        ...(application ? { application } : {}),
        ...timeLimitOf(form),
      });
      sendInstance(reply, request, callShape, call);
    },
    DELETE: async (request, reply) => {
      await deleteCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!);
      void reply.code(204).send();
    },
  });

  // Conclave only: what a `sim:…;record` endpoint heard on this call, as an 8 kHz WAV.
  resource(app, `${LIST}/:CallSid/SimulatedAudio.wav`, {
    GET: async (request, reply) => {
      const call = await getCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!);
      // Only a recording endpoint is asked (of the node that runs the call): the media plane
      // would keep any other live call's request waiting until that call ends.
      const wav = recordsAudio(call) ? await callRecording(ctx, call) : undefined;
      if (!wav) throw new ResourceNotFound(`SimulatedAudio of ${call.sid}: its To or From is not a sim: endpoint with ;record`);
      void reply.code(200).type('audio/wav').send(Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength));
    },
  });
}
