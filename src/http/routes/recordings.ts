/**
 * The Recording resources (twilio-oai ListRecording, FetchRecording, DeleteRecording; the
 * Call Recording and Conference Recording ones with their Create and Update): the account's
 * list and instances with their media, a call's (where a recording is started mid-call), and a
 * conference's.
 *
 * Media: `/Recordings/{Sid}` with no extension or `.wav` is the WAV (`audio/x-wav`), `.mp3` the
 * MP3 (`audio/mpeg`); `.json`, `.xml` and `.csv` are the metadata ("Fetch a Recording's media
 * file", https://www.twilio.com/docs/voice/api/recording). The media asks for the same HTTP
 * Basic credentials as the rest of the API: Twilio enforces that ("Enforce HTTP Auth on Media
 * URLs") on every account created since 31 July 2023 and on any account that turned it on; only
 * older accounts that never did serve media without credentials.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RECORDING_CALLBACK_EVENTS, type Recording } from '../../domain/recording.js';
import { isSid } from '../../domain/sids.js';
import { invalidParameter, missingParameter, ResourceNotFound } from '../../errors.js';
import { startCallRecording, updateRecording, type RecordingScope } from '../../services/recordings/control-recordings.js';
import { recordingCallback } from '../../services/recordings/recording-callback.js';
import { deleteRecording, getRecording, listRecordings, listScopedRecordings, readRecordingMedia } from '../../services/recordings/read-recordings.js';
import type { RecordingServiceContext } from '../../services/recordings/recording-service-context.js';
import { requestPath } from '../error-handler.js';
import { dateRange, day, oneOf, sid, text, type Params } from '../form-params.js';
import { accountRecordingShape, callRecordingShape, conferenceRecordingShape } from '../representation/recording-shape.js';
import { parsePaging } from '../representation/list-page.js';
import type { ResourceShape } from '../representation/resource-shape.js';
import { accountPath, conferencePath } from '../representation/uris.js';
import { enumList, METHODS, url } from './calls.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList, type Handler } from './resource.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';
const DATE_FILTERS = ['DateCreated', 'DateCreated<', 'DateCreated>'];
const FILTERS = ['CallSid', 'ConferenceSid', ...DATE_FILTERS];
/** The SID that names the recording in progress (or paused) in an update (twilio-oai UpdateCallRecording). */
const CURRENT = 'Twilio.CURRENT';
const DAY_MS = 86_400_000;

/** The scheme and host the client reached, for absolute URLs (`media_url`). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * Which media a fetch of `/Recordings/{param}` asks for, or undefined for the metadata: a
 * `.wav` or `.mp3` extension, or none at all (WAV). An `.xml` suffix is the XML metadata, which
 * a path without any suffix is not, although both come to the route as XML.
 */
function mediaAsked(request: FastifyRequest, param: string): { sid: string; format: 'wav' | 'mp3' } | undefined {
  if (request.format !== 'xml' || requestPath(request).endsWith('.xml')) return undefined;
  const extension = /\.(wav|mp3)$/.exec(param);
  if (!extension) return { sid: param, format: 'wav' };
  return { sid: param.slice(0, -extension[0].length), format: extension[1] as 'wav' | 'mp3' };
}

/** The DateCreated filters of a call's or a conference's recordings: days, `YYYY-MM-DD` (twilio-oai `format: date`). */
function dateFilter(query: Params): { dateCreated?: { from?: number; to?: number } } {
  const dateCreated = dateRange(query, 'DateCreated');
  return dateCreated ? { dateCreated } : {};
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * One DateCreated filter of the account's list: a day (`YYYY-MM-DD`, the docs' form), or an
 * instant in ISO 8601 (twilio-oai ListRecording has `format: date-time`, and twilio-node sends
 * `dateCreatedBefore` / `After` as `2025-06-16T00:00:00Z`). Both as [from, to) in epoch ms.
 */
function dayOrInstant(query: Params, name: string, side: 'on' | 'before' | 'after'): { from?: number; to?: number } | undefined {
  const value = text(query, name);
  let range: { from: number; to: number } | undefined;
  let at: number | undefined;
  if (value === undefined || value === '' || !value.includes('T')) {
    range = day(query, name);
    if (!range) return undefined;
  } else {
    at = DATE_TIME.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(at)) throw invalidParameter(name, `must be a date (YYYY-MM-DD) or an ISO 8601 date and time, not "${value}"`);
    const from = at - (at % DAY_MS);
    range = { from, to: from + DAY_MS };
  }
  // On or before a day: up to its end; an instant: up to and with it. On or after: from either.
  if (side === 'before') return { to: at === undefined ? range.to : at + 1 };
  if (side === 'after') return { from: at ?? range.from };
  return range;
}

/** `DateCreated`, `DateCreated<` (on or before) and `DateCreated>` (on or after) of the account's list, together. */
function createdFilter(query: Params): { dateCreated?: { from?: number; to?: number } } {
  const ranges = [dayOrInstant(query, 'DateCreated', 'on'), dayOrInstant(query, 'DateCreated<', 'before'), dayOrInstant(query, 'DateCreated>', 'after')];
  if (ranges.every((r) => r === undefined)) return {};
  const from = Math.max(...ranges.map((r) => r?.from ?? -Infinity));
  const to = Math.min(...ranges.map((r) => r?.to ?? Infinity));
  return { dateCreated: { ...(Number.isFinite(from) ? { from } : {}), ...(Number.isFinite(to) ? { to } : {}) } };
}

const callScope = (params: Record<string, string>): RecordingScope => ({ callSid: params.CallSid! });
const conferenceScope = (params: Record<string, string>): RecordingScope => ({ conferenceSid: params.ConferenceSid! });

/** The path of a call's or a conference's recordings list. */
function scopedListPath(accountSid: string, scope: RecordingScope): string {
  return 'callSid' in scope ? `${accountPath(accountSid)}/Calls/${scope.callSid}/Recordings` : `${conferencePath(accountSid, scope.conferenceSid)}/Recordings`;
}

/** `GET` of a call's or a conference's recordings (DateCreated filters, paging). */
function scopedList(ctx: RecordingServiceContext, shape: ResourceShape<Recording>, scopeOf: (params: Record<string, string>) => RecordingScope): Handler {
  return async (request, reply) => {
    const account = accountOf(request);
    const scope = scopeOf(paramsOf(request));
    const query = queryOf(request);
    const list = parsePaging(query);
    const result = await listScopedRecordings(ctx, { accountSid: account.sid, ...dateFilter(query) }, scope, list.page);
    sendList(reply, request, shape, scopedListPath(account.sid, scope), echoFilters(query, DATE_FILTERS), list, result);
  };
}

/** `GET`, `POST` (pause, resume, stop) and `DELETE` of one recording seen through a call or a conference. */
function scopedInstance(ctx: RecordingServiceContext, shape: ResourceShape<Recording>, scopeOf: (params: Record<string, string>) => RecordingScope): Partial<Record<'GET' | 'POST' | 'DELETE', Handler>> {
  return {
    GET: async (request, reply) => {
      const params = paramsOf(request);
      sendInstance(reply, request, shape, await getRecording(ctx, accountOf(request).sid, params.Sid!, scopeOf(params)));
    },
    POST: async (request, reply) => {
      const params = paramsOf(request);
      const form = formOf(request);
      const status = oneOf(form, 'Status', ['in-progress', 'paused', 'stopped'] as const);
      if (status === undefined) throw missingParameter('Status');
      // "This parameter only applies when setting status is set to paused"; checked always, so a typo is still a 400.
      const pauseBehavior = oneOf(form, 'PauseBehavior', ['skip', 'silence'] as const);
      const target = params.Sid!;
      if (target !== CURRENT && !isSid(target, 'RE')) throw new ResourceNotFound(`Recording ${target}`);
      const change = { status, ...(status === 'paused' && pauseBehavior ? { pauseBehavior } : {}) };
      sendInstance(reply, request, shape, await updateRecording(ctx, accountOf(request).sid, scopeOf(params), target, change));
    },
    DELETE: async (request, reply) => {
      const params = paramsOf(request);
      await deleteRecording(ctx, accountOf(request).sid, params.Sid!, scopeOf(params));
      void reply.code(204).send();
    },
  };
}

export function registerRecordingRoutes(app: FastifyInstance, ctx: RecordingServiceContext): void {
  resource(app, `${ACCOUNT}/Recordings`, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const query = queryOf(request);
      const list = parsePaging(query);
      const callSid = sid(query, 'CallSid', 'CA');
      const conferenceSid = sid(query, 'ConferenceSid', 'CF');
      const filter = {
        accountSid: account.sid,
        ...(callSid ? { callSid } : {}),
        ...(conferenceSid ? { conferenceSid } : {}),
        ...createdFilter(query),
      };
      const result = await listRecordings(ctx, filter, list.page);
      sendList(reply, request, accountRecordingShape(originOf(request)), `${accountPath(account.sid)}/Recordings`, echoFilters(query, FILTERS), list, result);
    },
  });

  resource(app, `${ACCOUNT}/Recordings/:Sid`, {
    GET: async (request, reply) => {
      const accountSid = accountOf(request).sid;
      const param = paramsOf(request).Sid!;
      const media = mediaAsked(request, param);
      if (!media) {
        sendInstance(reply, request, accountRecordingShape(originOf(request)), await getRecording(ctx, accountSid, param));
        return;
      }
      const audio = await readRecordingMedia(ctx, accountSid, media.sid, media.format);
      if (audio.size !== undefined) void reply.header('content-length', String(audio.size));
      const body = audio.body instanceof Readable ? audio.body : Readable.from(audio.body);
      // Awaited: a stream is sent after the handler returns, and `resource` returns nothing,
      // which fastify would take for an empty answer.
      await reply.code(200).type(audio.contentType).send(body);
    },
    DELETE: async (request, reply) => {
      await deleteRecording(ctx, accountOf(request).sid, paramsOf(request).Sid!);
      void reply.code(204).send();
    },
  });

  resource(app, `${ACCOUNT}/Calls/:CallSid/Recordings`, {
    GET: scopedList(ctx, callRecordingShape, callScope),
    POST: async (request, reply) => {
      const form = formOf(request);
      // RecordingStatusCallbackEvent: repeated or space-separated, `completed` when absent.
      const statusCallback = recordingCallback(
        url(form, 'RecordingStatusCallback'),
        oneOf(form, 'RecordingStatusCallbackMethod', METHODS) ?? 'POST',
        enumList(form, 'RecordingStatusCallbackEvent', RECORDING_CALLBACK_EVENTS),
      );
      const recording = await startCallRecording(ctx, accountOf(request).sid, paramsOf(request).CallSid!, {
        channels: oneOf(form, 'RecordingChannels', ['mono', 'dual'] as const) === 'dual' ? 2 : 1,
        track: oneOf(form, 'RecordingTrack', ['inbound', 'outbound', 'both'] as const) ?? 'both',
        // twilio-oai CreateCallRecording: "the default is `do-not-trim`".
        trim: oneOf(form, 'Trim', ['trim-silence', 'do-not-trim'] as const) === 'trim-silence',
        statusCallback,
      });
      sendInstance(reply, request, callRecordingShape, recording, 201);
    },
  });

  resource(app, `${ACCOUNT}/Calls/:CallSid/Recordings/:Sid`, scopedInstance(ctx, callRecordingShape, callScope));

  resource(app, `${ACCOUNT}/Conferences/:ConferenceSid/Recordings`, { GET: scopedList(ctx, conferenceRecordingShape, conferenceScope) });
  resource(app, `${ACCOUNT}/Conferences/:ConferenceSid/Recordings/:Sid`, scopedInstance(ctx, conferenceRecordingShape, conferenceScope));
}
