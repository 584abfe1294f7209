/**
 * The Call resource: every key of twilio-oai `api.v2010.account.call`, in its order. Conclave
 * charges nothing (`price` null) and has no trunks, groups or caller-name lookups (null).
 */
import type { Call } from '../../domain/call.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { accountPath } from './uris.js';

const callPath = (c: Call): string => `${accountPath(c.accountSid)}/Calls/${c.sid}`;
const date = (ms: number | null): string | null => (ms === null ? null : formatRfc2822(ms));

export const callShape: ResourceShape<Call> = {
  element: 'Call',
  listElement: 'Calls',
  listKey: 'calls',
  nested: ['subresource_uris'],
  fields: [
    ['sid', (c) => c.sid],
    ['date_created', (c) => formatRfc2822(c.dateCreated)],
    ['date_updated', (c) => formatRfc2822(c.dateUpdated)],
    ['parent_call_sid', (c) => c.parentCallSid],
    ['account_sid', (c) => c.accountSid],
    ['to', (c) => c.to],
    ['to_formatted', (c) => c.to],
    ['from', (c) => c.from],
    ['from_formatted', (c) => c.from],
    ['phone_number_sid', (c) => c.phoneNumberSid],
    ['status', (c) => c.status],
    ['start_time', (c) => date(c.startTime)],
    ['end_time', (c) => date(c.endTime)],
    ['duration', (c) => (c.duration === null ? null : String(c.duration))],
    ['price', () => null],
    ['price_unit', () => 'USD'],
    ['direction', (c) => c.direction],
    ['answered_by', () => null],
    ['api_version', () => '2010-04-01'],
    ['forwarded_from', () => null],
    ['group_sid', () => null],
    ['caller_name', () => null],
    ['queue_time', (c) => String(c.queueTime)],
    ['trunk_sid', () => null],
    ['uri', (c, suffix) => callPath(c) + suffix],
    ['subresource_uris', () => ({})],
  ],
};
