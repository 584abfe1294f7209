/**
 * The three Recording resources, each with every key of its twilio-oai schema in its order:
 * the account's (`api.v2010.account.recording`: `encryption_details`, `subresource_uris`,
 * `media_url`), a call's (`…call.call_recording`: `track`) and a conference's
 * (`…conference.conference_recording`). Conclave charges nothing (`price` null, in USD as
 * every Conclave price) and encrypts nothing (`encryption_details` null). `duration` is a
 * string once the recording completed and null before, as in Twilio's examples of in-progress
 * and paused recordings.
 */
import type { Recording } from '../../domain/recording.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { accountPath, conferencePath } from './uris.js';

type Field = readonly [string, (r: Recording, suffix: string) => unknown];

/** The account-level path of a recording: its metadata with a suffix, its media without. */
export const recordingPath = (r: Recording): string => `${accountPath(r.accountSid)}/Recordings/${r.sid}`;
const callRecordingPath = (r: Recording): string => `${accountPath(r.accountSid)}/Calls/${r.callSid ?? ''}/Recordings/${r.sid}`;
const conferenceRecordingPath = (r: Recording): string => `${conferencePath(r.accountSid, r.conferenceSid ?? '')}/Recordings/${r.sid}`;

/** The keys the three schemas share, in their common order, up to `sid`. */
const HEAD: readonly Field[] = [
  ['account_sid', (r) => r.accountSid],
  ['api_version', () => '2010-04-01'],
  ['call_sid', (r) => r.callSid],
  ['conference_sid', (r) => r.conferenceSid],
  ['date_created', (r) => formatRfc2822(r.dateCreated)],
  ['date_updated', (r) => formatRfc2822(r.dateUpdated)],
  ['start_time', (r) => formatRfc2822(r.startTime)],
  ['duration', (r) => (r.status === 'completed' && r.duration !== null ? String(r.duration) : null)],
  ['sid', (r) => r.sid],
  ['price', () => null],
];

const price_unit: Field = ['price_unit', () => 'USD'];
const status: Field = ['status', (r) => r.status];
const channels: Field = ['channels', (r) => r.channels];
const source: Field = ['source', (r) => r.source];
const error_code: Field = ['error_code', (r) => r.errorCode];
const encryption_details: Field = ['encryption_details', () => null];

const list = { element: 'Recording', listElement: 'Recordings', listKey: 'recordings' } as const;

/**
 * `/Accounts/{AC}/Recordings`. `media_url` is absolute, as Twilio gives it ("the full URL
 * location of the media file"), so `origin` is the scheme and host the client reached.
 */
export function accountRecordingShape(origin: string): ResourceShape<Recording> {
  return {
    ...list,
    nested: ['subresource_uris'],
    fields: [
      ...HEAD,
      price_unit,
      status,
      channels,
      source,
      error_code,
      ['uri', (r, suffix) => recordingPath(r) + suffix],
      encryption_details,
      [
        'subresource_uris',
        (r, suffix) => ({
          add_on_results: `${recordingPath(r)}/AddOnResults${suffix}`,
          transcriptions: `${recordingPath(r)}/Transcriptions${suffix}`,
        }),
      ],
      ['media_url', (r) => origin + recordingPath(r)],
    ],
  };
}

/** `/Accounts/{AC}/Calls/{CA}/Recordings`. */
export const callRecordingShape: ResourceShape<Recording> = {
  ...list,
  fields: [
    ...HEAD,
    ['uri', (r, suffix) => callRecordingPath(r) + suffix],
    encryption_details,
    price_unit,
    status,
    channels,
    source,
    error_code,
    ['track', (r) => r.track],
  ],
};

/** `/Accounts/{AC}/Conferences/{CF}/Recordings`. */
export const conferenceRecordingShape: ResourceShape<Recording> = {
  ...list,
  fields: [...HEAD, price_unit, status, channels, source, error_code, encryption_details, ['uri', (r, suffix) => conferenceRecordingPath(r) + suffix]],
};
