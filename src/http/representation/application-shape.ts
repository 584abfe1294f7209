/**
 * The Application resource: every key of twilio-oai `api.v2010.account.application`, in its
 * order. XML is derived from JSON (`<Application>`, `<Applications>`), as for the other
 * 2010 resources.
 */
import type { Application } from '../../domain/application.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { accountPath } from './uris.js';

export const applicationsPath = (accountSid: string): string => `${accountPath(accountSid)}/Applications`;
export const applicationPath = (accountSid: string, sid: string): string => `${applicationsPath(accountSid)}/${sid}`;

export const applicationShape: ResourceShape<Application> = {
  element: 'Application',
  listElement: 'Applications',
  listKey: 'applications',
  fields: [
    ['account_sid', (a) => a.accountSid],
    ['api_version', (a) => a.apiVersion],
    ['date_created', (a) => formatRfc2822(a.dateCreated)],
    ['date_updated', (a) => formatRfc2822(a.dateUpdated)],
    ['friendly_name', (a) => a.friendlyName],
    ['message_status_callback', (a) => a.messageStatusCallback],
    ['sid', (a) => a.sid],
    ['sms_fallback_method', (a) => a.smsFallbackMethod],
    ['sms_fallback_url', (a) => a.smsFallbackUrl],
    ['sms_method', (a) => a.smsMethod],
    ['sms_status_callback', (a) => a.smsStatusCallback],
    ['sms_url', (a) => a.smsUrl],
    ['status_callback', (a) => a.statusCallback],
    ['status_callback_method', (a) => a.statusCallbackMethod],
    ['uri', (a, suffix) => applicationPath(a.accountSid, a.sid) + suffix],
    ['voice_caller_id_lookup', (a) => a.voiceCallerIdLookup],
    ['voice_fallback_method', (a) => a.voiceFallbackMethod],
    ['voice_fallback_url', (a) => a.voiceFallbackUrl],
    ['voice_method', (a) => a.voiceMethod],
    ['voice_url', (a) => a.voiceUrl],
    ['public_application_connect_enabled', (a) => a.publicApplicationConnectEnabled],
  ],
};
