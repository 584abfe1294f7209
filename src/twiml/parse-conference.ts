/**
 * The `<Dial><Conference>` noun: every attribute Twilio documents, with its default, and the
 * room name from the element's text. https://www.twilio.com/docs/voice/twiml/conference
 * (attribute types as in twilio-node `ConferenceAttributes`).
 */
import { AttributeReader, type ParseContext } from './attribute-reader.js';
import { childElements, directText, type TwimlElement } from './twiml-element.js';
import type {
  ConferenceBeep,
  ConferenceEventName,
  ConferenceNoun,
  ConferenceRecord,
  ConferenceRegion,
  JitterBufferSize,
  RecordingEvent,
  Trim,
} from './verbs.js';

const BEEPS: readonly ConferenceBeep[] = ['true', 'false', 'onEnter', 'onExit'];
const EVENTS: readonly ConferenceEventName[] = [
  'start',
  'end',
  'join',
  'leave',
  'mute',
  'hold',
  'modify',
  'speaker',
  'announcement',
];
const RECORDS: readonly ConferenceRecord[] = ['do-not-record', 'record-from-start'];
const TRIMS: readonly Trim[] = ['trim-silence', 'do-not-trim'];
const REGIONS: readonly ConferenceRegion[] = ['us1', 'us2', 'ie1', 'sg1', 'br1', 'au1', 'jp1', 'de1'];
const JITTER_BUFFER_SIZES: readonly JitterBufferSize[] = ['large', 'medium', 'small', 'off'];
export const RECORDING_EVENTS: readonly RecordingEvent[] = ['in-progress', 'completed', 'absent'];

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

/** Twilio's documented cap on conference size. */
export const MAX_CONFERENCE_PARTICIPANTS = 250;

export function parseConference(element: TwimlElement, context: ParseContext): ConferenceNoun {
  const read = new AttributeReader(element, context);
  const nested = childElements(element)[0];
  if (nested !== undefined) {
    throw read.error(`<Conference> cannot contain <${nested.name}>; its text is the room name`);
  }
  const name = directText(element).trim();
  if (name === '') throw read.error('<Conference> has no room name: put the name as its text');

  const coach = read.string('coach');
  if (coach !== undefined && !CALL_SID.test(coach)) {
    throw read.error(`<Conference> attribute coach="${coach}" is invalid: it must be a call SID (CA…)`, 'coach');
  }
  // waitUrl="" is meaningful (no music), so it is read raw rather than as an absent value.
  const rawWaitUrl = element.attributes.get('waitUrl');
  const waitUrl = read.url('waitUrl') ?? (rawWaitUrl === undefined ? undefined : '');

  const noun: ConferenceNoun = {
    noun: 'Conference',
    name,
    muted: read.boolean('muted', false),
    beep: read.oneOf('beep', BEEPS, 'true'),
    startConferenceOnEnter: read.boolean('startConferenceOnEnter', true),
    endConferenceOnExit: read.boolean('endConferenceOnExit', false),
    waitUrl,
    waitMethod: read.method('waitMethod'),
    maxParticipants: read.integer('maxParticipants', MAX_CONFERENCE_PARTICIPANTS, 2, MAX_CONFERENCE_PARTICIPANTS),
    record: read.oneOf('record', RECORDS, 'do-not-record'),
    trim: read.oneOf('trim', TRIMS, 'trim-silence'),
    region: read.oneOf('region', REGIONS),
    coach,
    participantLabel: read.string('participantLabel'),
    jitterBufferSize: read.oneOf('jitterBufferSize', JITTER_BUFFER_SIZES, 'large'),
    statusCallback: read.url('statusCallback'),
    statusCallbackEvent: read.list('statusCallbackEvent', EVENTS, []),
    statusCallbackMethod: read.method('statusCallbackMethod'),
    recordingStatusCallback: read.url('recordingStatusCallback'),
    recordingStatusCallbackMethod: read.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvent: read.list('recordingStatusCallbackEvent', RECORDING_EVENTS, ['completed']),
    eventCallbackUrl: read.url('eventCallbackUrl'),
  };
  read.notActedOn('eventCallbackUrl', true, 'Conclave posts conference events to statusCallback only');
  read.notActedOn('jitterBufferSize', true, "Conclave's jitter buffer sizes itself to each caller's jitter");
  read.finish();
  return noun;
}
