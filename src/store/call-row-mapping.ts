/**
 * Rows <-> records for calls and phone numbers, field by field like row-mapping.ts.
 * `status_callback_events` is stored as one space-separated text column.
 */
import type { Call, CallProgressEvent } from '../domain/call.js';
import type { PhoneNumber } from '../domain/phone-number.js';
import type { Insertable } from './row-mapping.js';
import type { CallRow, CallsTable, PhoneNumberRow, PhoneNumbersTable } from './schema.js';

export function callToRow(c: Call): Insertable<CallsTable> {
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    parent_call_sid: c.parentCallSid,
    to: c.to,
    from: c.from,
    phone_number_sid: c.phoneNumberSid,
    status: c.status,
    direction: c.direction,
    timeout: c.timeout,
    start_time: c.startTime,
    end_time: c.endTime,
    duration: c.duration,
    queue_time: c.queueTime,
    url: c.url,
    method: c.method,
    fallback_url: c.fallbackUrl,
    fallback_method: c.fallbackMethod,
    twiml: c.twiml,
    status_callback: c.statusCallback,
    status_callback_method: c.statusCallbackMethod,
    status_callback_events: c.statusCallbackEvents.join(' '),
    node_id: c.nodeId ?? null,
    date_created: c.dateCreated,
    date_updated: c.dateUpdated,
  };
}

export function rowToCall(r: CallRow): Call {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    parentCallSid: r.parent_call_sid,
    to: r.to,
    from: r.from,
    phoneNumberSid: r.phone_number_sid,
    status: r.status,
    direction: r.direction,
    timeout: r.timeout,
    startTime: r.start_time,
    endTime: r.end_time,
    duration: r.duration,
    queueTime: r.queue_time,
    url: r.url,
    method: r.method,
    fallbackUrl: r.fallback_url,
    fallbackMethod: r.fallback_method,
    twiml: r.twiml,
    statusCallback: r.status_callback,
    statusCallbackMethod: r.status_callback_method,
    statusCallbackEvents: r.status_callback_events === '' ? [] : (r.status_callback_events.split(' ') as CallProgressEvent[]),
    ...(r.node_id === null ? {} : { nodeId: r.node_id }),
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

export function phoneNumberToRow(n: PhoneNumber): Insertable<PhoneNumbersTable> {
  return {
    sid: n.sid,
    account_sid: n.accountSid,
    phone_number: n.phoneNumber,
    friendly_name: n.friendlyName,
    voice_url: n.voiceUrl,
    voice_method: n.voiceMethod,
    voice_fallback_url: n.voiceFallbackUrl,
    voice_fallback_method: n.voiceFallbackMethod,
    status_callback: n.statusCallback,
    status_callback_method: n.statusCallbackMethod,
    voice_application_sid: n.voiceApplicationSid,
    date_created: n.dateCreated,
    date_updated: n.dateUpdated,
  };
}

export function rowToPhoneNumber(r: PhoneNumberRow): PhoneNumber {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    phoneNumber: r.phone_number,
    friendlyName: r.friendly_name,
    voiceUrl: r.voice_url,
    voiceMethod: r.voice_method,
    voiceFallbackUrl: r.voice_fallback_url,
    voiceFallbackMethod: r.voice_fallback_method,
    statusCallback: r.status_callback,
    statusCallbackMethod: r.status_callback_method,
    voiceApplicationSid: r.voice_application_sid,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}
