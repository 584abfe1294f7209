/**
 * The Calls resource (twilio-oai CreateCall, FetchCall, ListCall, UpdateCall): place a call to
 * a simulated endpoint driven by `Url` or `Twiml`, watch it, hang it up or redirect it.
 */
import type { FastifyInstance } from 'fastify';
import { CALL_PROGRESS_EVENTS, type CallProgressEvent, type CallStatus, type HttpMethod } from '../../domain/call.js';
import { ApiError, invalidParameter, missingParameter, ResourceNotFound, TwilioCode } from '../../errors.js';
import type { CallServiceContext } from '../../services/calls/call-service-context.js';
import { createCall } from '../../services/calls/create-call.js';
import { receiveCall } from '../../services/calls/receive-call.js';
import { getCall, listCalls, updateCall } from '../../services/calls/update-call.js';
import { dateRange, oneOf, text, type Params } from '../form-params.js';
import { callShape } from '../representation/call-shape.js';
import { parsePaging } from '../representation/list-page.js';
import { accountPath } from '../representation/uris.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Calls';
export const METHODS: readonly HttpMethod[] = ['GET', 'POST'];
const STATUSES: readonly CallStatus[] = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];
const FILTERS = ['To', 'From', 'Status', 'ParentCallSid', 'StartTime', 'StartTime<', 'StartTime>', 'EndTime', 'EndTime<', 'EndTime>'];

/** An absolute http(s) URL, or a 400 naming the field. */
export function url(params: Params, name: string): string | null {
  const value = text(params, name);
  if (value === undefined || value === '') return null;
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

export function progressEvents(params: Params, name: string): CallProgressEvent[] | undefined {
  const values = list(params, name);
  const bad = values?.find((v) => !(CALL_PROGRESS_EVENTS as readonly string[]).includes(v));
  if (bad !== undefined) throw invalidParameter(name, `"${bad}" is not one of ${CALL_PROGRESS_EVENTS.join(', ')}`);
  return values as CallProgressEvent[] | undefined;
}

export function timeout(params: Params): number {
  const value = text(params, 'Timeout');
  if (value === undefined || value === '') return 60;
  if (!/^\d+$/.test(value)) throw invalidParameter('Timeout', 'must be a whole number of seconds');
  return Math.min(600, Math.max(5, Number(value)));
}

/** SipAuthUsername and SipAuthPassword go together (twilio-oai CreateCall). */
export function sipAuthOf(form: Params): { sipAuth?: { username: string; password: string } } {
  const username = text(form, 'SipAuthUsername');
  const password = text(form, 'SipAuthPassword');
  if (username === undefined && password === undefined) return {};
  if (!username || password === undefined) throw new ApiError(400, TwilioCode.invalidParameter, 'SipAuthUsername and SipAuthPassword go together');
  return { sipAuth: { username, password } };
}

export function registerCallRoutes(app: FastifyInstance, ctx: CallServiceContext): void {
  resource(app, LIST, {
    POST: async (request, reply) => {
      const form = formOf(request);
      const to = text(form, 'To');
      const from = text(form, 'From');
      if (!to) throw missingParameter('To');
      if (!from) throw missingParameter('From');
      const call = await createCall(ctx, {
        accountSid: accountOf(request).sid,
        to,
        from,
        url: url(form, 'Url'),
        method: oneOf(form, 'Method', METHODS) ?? 'POST',
        fallbackUrl: url(form, 'FallbackUrl'),
        fallbackMethod: oneOf(form, 'FallbackMethod', METHODS) ?? 'POST',
        twiml: text(form, 'Twiml') || null,
        statusCallback: url(form, 'StatusCallback'),
        statusCallbackMethod: oneOf(form, 'StatusCallbackMethod', METHODS) ?? 'POST',
        statusCallbackEvents: progressEvents(form, 'StatusCallbackEvent'),
        timeout: timeout(form),
        ...sipAuthOf(form),
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
      const twiml = text(form, 'Twiml') || null;
      const target = url(form, 'Url');
      const application =
        twiml !== null || target !== null
          ? { url: target, method: oneOf(form, 'Method', METHODS) ?? 'POST', twiml, fallbackUrl: url(form, 'FallbackUrl'), fallbackMethod: oneOf(form, 'FallbackMethod', METHODS) ?? 'POST' }
          : undefined;
      const call = await updateCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!, {
        ...(status ? { status } : {}),
        ...(application ? { application } : {}),
      });
      sendInstance(reply, request, callShape, call);
    },
  });

  // Conclave only: what a `sim:…;record` endpoint heard on this call, as an 8 kHz WAV.
  resource(app, `${LIST}/:CallSid/SimulatedAudio.wav`, {
    GET: async (request, reply) => {
      const call = await getCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!);
      const wav = await ctx.calls.recording(call.sid);
      if (!wav) throw new ResourceNotFound(`SimulatedAudio of ${call.sid}: its To or From is not a sim: endpoint with ;record`);
      void reply.code(200).type('audio/wav').send(Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength));
    },
  });
}
