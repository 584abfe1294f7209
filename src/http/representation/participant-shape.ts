/**
 * The Participant resource. JSON carries every key of twilio-oai
 * `api.v2010.account.conference.participant`, in its order. XML is the 2010 document of the
 * seed (`test/fixtures/participants-2010.txt`) element for element: its instance and its list
 * items name the same elements in different orders, and both are kept as the seed shows them.
 */
import type { Participant } from '../../domain/model.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { participantPath } from './uris.js';
import type { XmlChildren } from './xml-writer.js';

const uriOf = (p: Participant): string => participantPath(p.accountSid, p.conferenceSid, p.callSid);

/** The seed's instance document: its elements in its order. */
function seedXml(p: Participant): XmlChildren {
  return {
    CallSid: p.callSid,
    ConferenceSid: p.conferenceSid,
    AccountSid: p.accountSid,
    Muted: p.muted,
    EndConferenceOnExit: p.endConferenceOnExit,
    StartConferenceOnEnter: p.startConferenceOnEnter,
    DateCreated: formatRfc2822(p.dateCreated),
    DateUpdated: formatRfc2822(p.dateUpdated),
    Uri: uriOf(p),
  };
}

export const participantShape: ResourceShape<Participant> = {
  element: 'Participant',
  listElement: 'Participants',
  listKey: 'participants',
  fields: [
    ['account_sid', (p) => p.accountSid],
    ['call_sid', (p) => p.callSid],
    ['label', (p) => p.label],
    ['call_sid_to_coach', (p) => p.callSidToCoach],
    ['coaching', (p) => p.coaching],
    ['conference_sid', (p) => p.conferenceSid],
    ['date_created', (p) => formatRfc2822(p.dateCreated)],
    ['date_updated', (p) => formatRfc2822(p.dateUpdated)],
    ['end_conference_on_exit', (p) => p.endConferenceOnExit],
    ['muted', (p) => p.muted],
    ['hold', (p) => p.hold],
    ['start_conference_on_enter', (p) => p.startConferenceOnEnter],
    ['status', (p) => p.status],
    ['queue_time', (p) => (p.queueTime === null ? null : String(p.queueTime))],
    ['uri', (p, suffix) => uriOf(p) + suffix],
  ],
  xml: seedXml,
  // The seed's list items open with ConferenceSid, AccountSid, CallSid; the rest as in the instance.
  xmlInList: (p) => {
    const { CallSid, ConferenceSid, AccountSid, ...rest } = seedXml(p);
    return { ConferenceSid, AccountSid, CallSid, ...rest };
  },
};
