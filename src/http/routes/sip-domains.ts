/**
 * The SIP Domain resource (twilio-oai CreateSipDomain, ListSipDomain, FetchSipDomain,
 * UpdateSipDomain, DeleteSipDomain). `DomainName` is any DNS name that resolves to this
 * Conclave (Twilio requires `….sip.twilio.com`). Emergency calling and BYOC trunks have no
 * meaning on a bridge without a carrier: asking for them is a 400, their empty or false values
 * are accepted.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, missingParameter, TwilioCode } from '../../errors.js';
import type { ServiceContext } from '../../services/context.js';
import {
  createSipDomain,
  deleteSipDomain,
  getSipDomain,
  listSipDomains,
  updateSipDomain,
  type SipDomainSettings,
} from '../../services/sip-domains/domains.js';
import { bool, boundedText, oneOf, text, type Params } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import { sipDomainShape } from '../representation/sip-domain-shape.js';
import { sipPath } from '../representation/sip-paths.js';
import { METHODS, url } from './calls.js';
import { accountOf, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/SIP/Domains';
/** Twilio: a domain's friendly name is up to 64 characters. */
const NAME_MAX = 64;

function notSupported(name: string, why: string): never {
  throw new ApiError(400, TwilioCode.invalidParameter, `${name} is not supported by Conclave: ${why}`);
}

/** A URL given (null when given empty, which clears it), or undefined when not given. */
function optionalUrl(form: Params, name: string): string | null | undefined {
  return text(form, name) === undefined ? undefined : url(form, name);
}

function domainSettings(form: Params): SipDomainSettings {
  if (bool(form, 'EmergencyCallingEnabled') === true) notSupported('EmergencyCallingEnabled', 'there is no carrier to place emergency calls');
  if (text(form, 'ByocTrunkSid')) notSupported('ByocTrunkSid', 'there are no BYOC trunks; calls go out through the carrier trunk setting');
  if (text(form, 'EmergencyCallerSid')) notSupported('EmergencyCallerSid', 'there is no carrier to place emergency calls');
  return {
    domainName: text(form, 'DomainName'),
    friendlyName: boundedText(form, 'FriendlyName', NAME_MAX),
    voiceUrl: optionalUrl(form, 'VoiceUrl'),
    voiceMethod: oneOf(form, 'VoiceMethod', METHODS),
    voiceFallbackUrl: optionalUrl(form, 'VoiceFallbackUrl'),
    voiceFallbackMethod: oneOf(form, 'VoiceFallbackMethod', METHODS),
    voiceStatusCallbackUrl: optionalUrl(form, 'VoiceStatusCallbackUrl'),
    voiceStatusCallbackMethod: oneOf(form, 'VoiceStatusCallbackMethod', METHODS),
    sipRegistration: bool(form, 'SipRegistration'),
    secure: bool(form, 'Secure'),
  };
}

export function registerSipDomainRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  resource(app, LIST, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const list = parsePaging(queryOf(request));
      sendList(reply, request, sipDomainShape, `${sipPath(account.sid)}/Domains`, [], list, await listSipDomains(ctx, account.sid, list.page));
    },
    POST: async (request, reply) => {
      const settings = domainSettings(formOf(request));
      if (!settings.domainName) throw missingParameter('DomainName');
      const domain = await createSipDomain(ctx, accountOf(request).sid, { ...settings, domainName: settings.domainName });
      sendInstance(reply, request, sipDomainShape, domain, 201);
    },
  });

  resource(app, `${LIST}/:DomainSid`, {
    GET: async (request, reply) => {
      sendInstance(reply, request, sipDomainShape, await getSipDomain(ctx, accountOf(request).sid, paramsOf(request).DomainSid!));
    },
    POST: async (request, reply) => {
      const domain = await updateSipDomain(ctx, accountOf(request).sid, paramsOf(request).DomainSid!, domainSettings(formOf(request)));
      sendInstance(reply, request, sipDomainShape, domain);
    },
    DELETE: async (request, reply) => {
      await deleteSipDomain(ctx, accountOf(request).sid, paramsOf(request).DomainSid!);
      void reply.code(204).send();
    },
  });
}
