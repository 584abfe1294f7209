/** The Conference resource: every key of twilio-oai `api.v2010.account.conference`, in its order. */
import type { Conference } from '../../domain/model.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { conferencePath } from './uris.js';

export const conferenceShape: ResourceShape<Conference> = {
  element: 'Conference',
  listElement: 'Conferences',
  listKey: 'conferences',
  nested: ['subresource_uris'],
  fields: [
    ['account_sid', (c) => c.accountSid],
    ['date_created', (c) => formatRfc2822(c.dateCreated)],
    ['date_updated', (c) => formatRfc2822(c.dateUpdated)],
    ['api_version', () => '2010-04-01'],
    ['friendly_name', (c) => c.friendlyName],
    ['region', (c) => c.region],
    ['sid', (c) => c.sid],
    ['status', (c) => c.status],
    ['uri', (c, suffix) => conferencePath(c.accountSid, c.sid) + suffix],
    [
      'subresource_uris',
      (c, suffix) => ({
        participants: `${conferencePath(c.accountSid, c.sid)}/Participants${suffix}`,
        recordings: `${conferencePath(c.accountSid, c.sid)}/Recordings${suffix}`,
      }),
    ],
    ['reason_conference_ended', (c) => c.reasonConferenceEnded],
    ['call_sid_ending_conference', (c) => c.callSidEndingConference],
  ],
};
