/**
 * The IncomingPhoneNumber resource, its voice part (twilio-oai CreateIncomingPhoneNumber,
 * ListIncomingPhoneNumber, FetchIncomingPhoneNumber, UpdateIncomingPhoneNumber,
 * DeleteIncomingPhoneNumber). A number is registered with `PhoneNumber`: Conclave has no carrier,
 * so `AreaCode` (buy any number there) cannot be served. `VoiceApplicationSid` names an
 * Application of the account whose voice URLs answer instead of the number's own. Parameters of
 * the spec that would change how a call is routed or answered, and that Conclave cannot honour
 * (`TrunkSid`, `VoiceReceiveMode=fax`, `EmergencyStatus=Active`, moving a number with
 * `AccountSid`), are a 400; the SMS, regulatory and CNAM parameters change nothing on a
 * voice-only bridge and are accepted and ignored, as Twilio ignores parameters it does not use.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpMethod } from '../../domain/call.js';
import { ApiError, invalidParameter, missingParameter, TwilioCode } from '../../errors.js';
import type { ServiceContext } from '../../services/context.js';
import {
  createPhoneNumber,
  deletePhoneNumber,
  getPhoneNumber,
  listPhoneNumbers,
  requireE164,
  updatePhoneNumber,
  type VoiceSettings,
} from '../../services/phone-numbers.js';
import { callbackUrl, URL_MAX } from '../callback-url.js';
import { bool, boundedText, oneOf, sid, text, type Params } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import { phoneNumberShape } from '../representation/phone-number-shape.js';
import { accountPath } from '../representation/uris.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/IncomingPhoneNumbers';
const FILTERS = ['PhoneNumber', 'FriendlyName', 'Beta', 'Origin'];
const METHODS: readonly HttpMethod[] = ['GET', 'POST'];
/** Twilio's limit: 64 characters for a friendly name. */
const NAME_MAX = 64;
/** Twilio's error 21502 "Invalid callback url". */
const INVALID_URL = 21502;

function notSupported(name: string, why: string): ApiError {
  return new ApiError(400, TwilioCode.invalidParameter, `${name} is not supported by Conclave: ${why}`);
}

/** Twilio's 21502 "Invalid callback url". */
function invalidUrl(name: string, value: string): ApiError {
  return new ApiError(400, INVALID_URL, `Invalid ${name}: "${value}" is not an absolute http or https URL of at most ${URL_MAX} characters`);
}

/** A URL parameter: undefined when absent, null when given empty (cleared). */
function urlParam(form: Params, name: string): string | null | undefined {
  return callbackUrl(form, name, invalidUrl);
}

/** Parameters Conclave cannot honour: refused, unless given empty (which clears them in Twilio). */
function refuseUnsupported(form: Params): void {
  const unsupported: Array<[string, string]> = [
    ['TrunkSid', 'there are no Elastic SIP Trunks; set VoiceUrl on the number instead'],
  ];
  for (const [name, why] of unsupported) if (text(form, name)) throw notSupported(name, why);
  const receiveMode = oneOf(form, 'VoiceReceiveMode', ['voice', 'fax']);
  if (receiveMode === 'fax') throw notSupported('VoiceReceiveMode=fax', 'numbers receive voice calls only');
  const emergency = oneOf(form, 'EmergencyStatus', ['Active', 'Inactive']);
  if (emergency === 'Active') throw notSupported('EmergencyStatus=Active', 'there is no carrier to place emergency calls');
}

function voiceSettings(form: Params): VoiceSettings {
  const settings: VoiceSettings = {
    friendlyName: boundedText(form, 'FriendlyName', NAME_MAX),
    voiceUrl: urlParam(form, 'VoiceUrl'),
    voiceMethod: oneOf(form, 'VoiceMethod', METHODS),
    voiceFallbackUrl: urlParam(form, 'VoiceFallbackUrl'),
    voiceFallbackMethod: oneOf(form, 'VoiceFallbackMethod', METHODS),
    statusCallback: urlParam(form, 'StatusCallback'),
    statusCallbackMethod: oneOf(form, 'StatusCallbackMethod', METHODS),
    // Given empty, the number lets go of its application (its own URLs answer again).
    voiceApplicationSid: text(form, 'VoiceApplicationSid') === '' ? null : sid(form, 'VoiceApplicationSid', 'AP'),
  };
  refuseUnsupported(form);
  return settings;
}

export function registerPhoneNumberRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  resource(app, LIST, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const query = queryOf(request);
      const list = parsePaging(query);
      const phoneNumber = text(query, 'PhoneNumber') || undefined;
      // Twilio matches partial numbers here; Conclave matches whole numbers only, so say so.
      if (phoneNumber !== undefined) requireE164(phoneNumber);
      const filter = { accountSid: account.sid, phoneNumber, friendlyName: boundedText(query, 'FriendlyName', NAME_MAX) || undefined };
      // Every Conclave number is hosted and not beta: other values of these filters match none.
      const beta = bool(query, 'Beta');
      const origin = text(query, 'Origin') || undefined;
      const none = beta === true || (origin !== undefined && origin.toLowerCase() !== 'hosted');
      const result = none
        ? { items: [], seqs: [], total: 0, hasNext: false, hasPrevious: false }
        : await listPhoneNumbers(ctx, filter, list.page);
      sendList(reply, request, phoneNumberShape, `${accountPath(account.sid)}/IncomingPhoneNumbers`, echoFilters(query, FILTERS), list, result);
    },
    POST: async (request, reply) => {
      const form = formOf(request);
      const phoneNumber = text(form, 'PhoneNumber');
      if (text(form, 'AreaCode') !== undefined) {
        throw notSupported('AreaCode', 'there is no carrier to buy numbers from; register a number you own with PhoneNumber');
      }
      if (!phoneNumber) throw missingParameter('PhoneNumber');
      const number = await createPhoneNumber(ctx, accountOf(request).sid, { phoneNumber, ...voiceSettings(form) });
      sendInstance(reply, request, phoneNumberShape, number, 201);
    },
  });

  resource(app, `${LIST}/:Sid`, {
    GET: async (request, reply) => {
      sendInstance(reply, request, phoneNumberShape, await getPhoneNumber(ctx, accountOf(request).sid, paramsOf(request).Sid!));
    },
    POST: async (request, reply) => {
      const account = accountOf(request);
      const form = formOf(request);
      if (text(form, 'PhoneNumber') !== undefined) {
        throw invalidParameter('PhoneNumber', 'a number cannot be changed; delete it and register the new number');
      }
      const target = text(form, 'AccountSid');
      if (target !== undefined && target !== account.sid) {
        throw notSupported('AccountSid', 'a number cannot be moved to another account; delete it and register it there');
      }
      const number = await updatePhoneNumber(ctx, account.sid, paramsOf(request).Sid!, voiceSettings(form));
      sendInstance(reply, request, phoneNumberShape, number);
    },
    DELETE: async (request, reply) => {
      await deletePhoneNumber(ctx, accountOf(request).sid, paramsOf(request).Sid!);
      void reply.code(204).send();
    },
  });
}
