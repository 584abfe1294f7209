/**
 * The Application resource (twilio-oai CreateApplication, ListApplication, FetchApplication,
 * UpdateApplication, DeleteApplication; https://www.twilio.com/docs/usage/api/applications).
 * Every parameter of the spec is accepted and kept; the SMS ones change nothing on a voice-only
 * bridge. `ApiVersion` may only be `2010-04-01`: Conclave runs no 2008-08-01 TwiML sessions.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, invalidParameter } from '../../errors.js';
import type { ServiceContext } from '../../services/context.js';
import {
  API_VERSION,
  createApplication,
  deleteApplication,
  getApplication,
  listApplications,
  updateApplication,
  type ApplicationSettings,
} from '../../services/applications.js';
import { callbackUrl, URL_MAX } from '../callback-url.js';
import { bool, boundedText, oneOf, text, type Params } from '../form-params.js';
import { applicationShape, applicationsPath } from '../representation/application-shape.js';
import { parsePaging } from '../representation/list-page.js';
import { METHODS } from './calls.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Applications';
const FILTERS = ['FriendlyName'];
/** Twilio: "It can be up to 64 characters long" (CreateApplication FriendlyName). */
const NAME_MAX = 64;
/**
 * Twilio's 21402 "Invalid Url", as it answers a bad VoiceUrl: `VoiceUrl is not a valid URL: …`
 * (a real response quoted in nash-md/twilio-contact-center#17).
 */
function invalidUrl(name: string, value: string): ApiError {
  return new ApiError(400, 21402, `${name} is not a valid URL: ${value} (an absolute http or https URL of at most ${URL_MAX} characters)`);
}

/** A URL parameter: undefined when absent, null when given empty (cleared). */
function urlParam(form: Params, name: string): string | null | undefined {
  return callbackUrl(form, name, invalidUrl);
}

function applicationSettings(form: Params): ApplicationSettings {
  const apiVersion = text(form, 'ApiVersion');
  if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== API_VERSION) {
    throw invalidParameter('ApiVersion', `Conclave runs ${API_VERSION} TwiML sessions only, not "${apiVersion}"`);
  }
  return {
    friendlyName: boundedText(form, 'FriendlyName', NAME_MAX),
    voiceUrl: urlParam(form, 'VoiceUrl'),
    voiceMethod: oneOf(form, 'VoiceMethod', METHODS),
    voiceFallbackUrl: urlParam(form, 'VoiceFallbackUrl'),
    voiceFallbackMethod: oneOf(form, 'VoiceFallbackMethod', METHODS),
    statusCallback: urlParam(form, 'StatusCallback'),
    statusCallbackMethod: oneOf(form, 'StatusCallbackMethod', METHODS),
    voiceCallerIdLookup: bool(form, 'VoiceCallerIdLookup'),
    smsUrl: urlParam(form, 'SmsUrl'),
    smsMethod: oneOf(form, 'SmsMethod', METHODS),
    smsFallbackUrl: urlParam(form, 'SmsFallbackUrl'),
    smsFallbackMethod: oneOf(form, 'SmsFallbackMethod', METHODS),
    smsStatusCallback: urlParam(form, 'SmsStatusCallback'),
    messageStatusCallback: urlParam(form, 'MessageStatusCallback'),
    publicApplicationConnectEnabled: bool(form, 'PublicApplicationConnectEnabled'),
  };
}

export function registerApplicationRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  resource(app, LIST, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const query = queryOf(request);
      const list = parsePaging(query);
      // A name longer than any application may have matches none, rather than being refused.
      const friendlyName = text(query, 'FriendlyName') || undefined;
      const result = await listApplications(ctx, account.sid, list.page, friendlyName === undefined ? {} : { friendlyName });
      sendList(reply, request, applicationShape, applicationsPath(account.sid), echoFilters(query, FILTERS), list, result);
    },
    POST: async (request, reply) => {
      const application = await createApplication(ctx, accountOf(request).sid, applicationSettings(formOf(request)));
      sendInstance(reply, request, applicationShape, application, 201);
    },
  });

  resource(app, `${LIST}/:Sid`, {
    GET: async (request, reply) => {
      sendInstance(reply, request, applicationShape, await getApplication(ctx, accountOf(request).sid, paramsOf(request).Sid!));
    },
    POST: async (request, reply) => {
      const application = await updateApplication(ctx, accountOf(request).sid, paramsOf(request).Sid!, applicationSettings(formOf(request)));
      sendInstance(reply, request, applicationShape, application);
    },
    DELETE: async (request, reply) => {
      await deleteApplication(ctx, accountOf(request).sid, paramsOf(request).Sid!);
      void reply.code(204).send();
    },
  });
}
