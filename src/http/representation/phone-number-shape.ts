/**
 * The IncomingPhoneNumber resource: every key of twilio-oai
 * `api.v2010.account.incoming_phone_number`, in its order. Conclave keeps only the voice part of
 * a number; the rest is written with what is true of a number a user registered on a bridge
 * without a carrier: voice only, hosted, never beta, no SMS, no emergency calling, no address,
 * bundle, identity or trunk. XML is derived from JSON, except that the
 * capabilities are named `SMS` and `MMS` in XML, as the spec's XML annotations say.
 */
import type { PhoneNumber } from '../../domain/phone-number.js';
import { jsonOf, pascalObject, type ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { accountPath } from './uris.js';
import type { XmlChildren } from './xml-writer.js';

export const phoneNumberPath = (accountSid: string, sid: string): string => `${accountPath(accountSid)}/IncomingPhoneNumbers/${sid}`;

const CAPABILITIES = { voice: true, sms: false, mms: false, fax: false } as const;

export const phoneNumberShape: ResourceShape<PhoneNumber> = {
  element: 'IncomingPhoneNumber',
  listElement: 'IncomingPhoneNumbers',
  listKey: 'incoming_phone_numbers',
  nested: ['capabilities'],
  fields: [
    ['account_sid', (n) => n.accountSid],
    ['address_sid', () => null],
    ['address_requirements', () => 'none'],
    ['api_version', () => '2010-04-01'],
    ['beta', () => false],
    ['capabilities', () => ({ ...CAPABILITIES })],
    ['date_created', (n) => formatRfc2822(n.dateCreated)],
    ['date_updated', (n) => formatRfc2822(n.dateUpdated)],
    ['friendly_name', (n) => n.friendlyName],
    ['identity_sid', () => null],
    ['phone_number', (n) => n.phoneNumber],
    // Twilio's two origins are `twilio` (bought from Twilio) and `hosted` (brought by the user).
    ['origin', () => 'hosted'],
    ['sid', (n) => n.sid],
    ['sms_application_sid', () => null],
    ['sms_fallback_method', () => 'POST'],
    ['sms_fallback_url', () => null],
    ['sms_method', () => 'POST'],
    ['sms_url', () => null],
    ['status_callback', (n) => n.statusCallback],
    ['status_callback_method', (n) => n.statusCallbackMethod],
    ['trunk_sid', () => null],
    ['uri', (n, suffix) => phoneNumberPath(n.accountSid, n.sid) + suffix],
    ['voice_receive_mode', () => 'voice'],
    ['voice_application_sid', (n) => n.voiceApplicationSid],
    ['voice_caller_id_lookup', () => false],
    ['voice_fallback_method', (n) => n.voiceFallbackMethod],
    ['voice_fallback_url', (n) => n.voiceFallbackUrl],
    ['voice_method', (n) => n.voiceMethod],
    ['voice_url', (n) => n.voiceUrl],
    ['emergency_status', () => 'Inactive'],
    ['emergency_address_sid', () => null],
    ['emergency_address_status', () => 'unregistered'],
    ['bundle_sid', () => null],
    ['status', () => 'in-use'],
    // Twilio's types (local, mobile, tollFree…) come from its carrier data; Conclave has none.
    ['type', () => null],
  ],
  xml: (n: PhoneNumber): XmlChildren => ({
    ...pascalObject(jsonOf(phoneNumberShape, n, '')),
    Capabilities: { Voice: CAPABILITIES.voice, SMS: CAPABILITIES.sms, MMS: CAPABILITIES.mms, Fax: CAPABILITIES.fax },
  }),
};
