/**
 * The `<Dial>` verb and its nouns: one `<Conference>`, or up to ten `<Number>`, `<Sip>` and
 * `<Client>` rung together (bare text is a number). Twilio's other nouns (`<Queue>`, `<Sim>`,
 * `<Application>`, `<WhatsApp>`) are refused as not supported rather than skipped.
 * https://www.twilio.com/docs/voice/twiml/dial, …/twiml/number, …/twiml/sip, …/twiml/client
 */
import { AttributeReader, type ParseContext } from './attribute-reader.js';
import { parseConference, RECORDING_EVENTS } from './parse-conference.js';
import { isSendableDigits, SENDABLE_DIGITS_RULE } from './dtmf-digits.js';
import { childElements, directText, isElement, type TwimlElement } from './twiml-element.js';
import type {
  CallProgressEvent,
  ClientNoun,
  ConferenceNoun,
  DialEndpointNoun,
  DialRecord,
  DialVerb,
  NumberNoun,
  SipNoun,
  Trim,
} from './verbs.js';

const DIAL_RECORDS: readonly DialRecord[] = [
  'do-not-record',
  'record-from-answer',
  'record-from-ringing',
  'record-from-answer-dual',
  'record-from-ringing-dual',
];
const TRIMS: readonly Trim[] = ['trim-silence', 'do-not-trim'];
const CALL_PROGRESS_EVENTS: readonly CallProgressEvent[] = ['initiated', 'ringing', 'answered', 'completed'];
const UNSUPPORTED_NOUNS = new Set(['Queue', 'Sim', 'Application', 'WhatsApp']);

/** Twilio rings at most ten endpoints at once. */
export const MAX_DIAL_ENDPOINTS = 10;
const MIN_TIMEOUT = 5;
const MAX_TIMEOUT = 600;
const MAX_TIME_LIMIT = 86_400;

export function parseDial(element: TwimlElement, context: ParseContext): DialVerb {
  const read = new AttributeReader(element, context);
  const timeout = clamped(read, 'timeout', read.integer('timeout', 30, 1), MIN_TIMEOUT, MAX_TIMEOUT);
  const timeLimit = clamped(read, 'timeLimit', read.integer('timeLimit', 14_400, 1), 1, MAX_TIME_LIMIT);
  const verb = {
    verb: 'Dial' as const,
    action: read.url('action'),
    method: read.method('method'),
    timeout,
    hangupOnStar: read.boolean('hangupOnStar', false),
    timeLimit,
    callerId: read.string('callerId'),
    answerOnBridge: read.boolean('answerOnBridge', false),
    record: dialRecord(read),
    trim: read.oneOf('trim', TRIMS, 'trim-silence'),
    recordingStatusCallback: read.url('recordingStatusCallback'),
    recordingStatusCallbackMethod: read.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvent: read.list('recordingStatusCallbackEvent', RECORDING_EVENTS, ['completed']),
    ringTone: read.string('ringTone'),
  };
  read.notActedOn('ringTone', true, 'the caller hears Conclave\'s ringback (North American) whatever the country');
  const nouns = parseNouns(read, context);
  if (verb.record !== 'do-not-record' && nouns.conference !== undefined) {
    read.warn('<Dial record> records calls to phones; to record a conference use <Conference record="record-from-start">');
  }
  read.finish();
  return { ...verb, ...nouns };
}

/** Legacy record="true"/"false" predates the record-from-* values and still works. */
function dialRecord(read: AttributeReader): DialRecord {
  const legacy = read.string('record')?.toLowerCase();
  if (legacy === 'true') return 'record-from-answer';
  if (legacy === 'false') return 'do-not-record';
  return read.oneOf('record', DIAL_RECORDS, 'do-not-record');
}

/** Positive but out-of-range values are brought into range with a warning rather than failing the call. */
function clamped(read: AttributeReader, name: string, value: number, min: number, max: number): number {
  const result = Math.min(Math.max(value, min), max);
  if (result !== value) read.warn(`<Dial> attribute ${name}="${value}" is outside ${min}–${max}; using ${result}`);
  return result;
}

function parseNouns(
  read: AttributeReader,
  context: ParseContext,
): { conference: ConferenceNoun | undefined; endpoints: DialEndpointNoun[] } {
  const element = read.element;
  const nouns = childElements(element);
  const text = directText(element).trim();
  if (nouns.length === 0) {
    if (text === '') throw read.error('<Dial> has no <Conference>, <Number>, <Sip> or <Client>');
    return { conference: undefined, endpoints: [bareNumber(text)] };
  }
  if (text !== '') {
    throw read.error(`<Dial> mixes text ("${text}") with nouns; put the number in a <Number>`);
  }
  for (const noun of nouns) {
    if (UNSUPPORTED_NOUNS.has(noun.name)) {
      throw read.error(`<Dial><${noun.name}> is not supported by Conclave`);
    }
    if (!['Conference', 'Number', 'Sip', 'Client'].includes(noun.name)) {
      throw read.error(`<${noun.name}> is not allowed in <Dial>; use <Conference>, <Number>, <Sip> or <Client>`);
    }
  }
  const conferences = nouns.filter((noun) => noun.name === 'Conference');
  if (conferences.length > 0) {
    if (nouns.length > 1) throw read.error('<Dial> with a <Conference> must contain nothing else');
    return { conference: parseConference(conferences[0]!, context), endpoints: [] };
  }
  if (nouns.length > MAX_DIAL_ENDPOINTS) {
    throw read.error(`<Dial> can ring at most ${MAX_DIAL_ENDPOINTS} nouns at once, found ${nouns.length}`);
  }
  return { conference: undefined, endpoints: nouns.map((noun) => parseEndpoint(noun, context)) };
}

function bareNumber(number: string): NumberNoun {
  return {
    noun: 'Number',
    number,
    sendDigits: undefined,
    url: undefined,
    method: 'POST',
    statusCallback: undefined,
    statusCallbackEvent: ['completed'],
    statusCallbackMethod: 'POST',
  };
}

function parseEndpoint(element: TwimlElement, context: ParseContext): DialEndpointNoun {
  const read = new AttributeReader(element, context);
  const common = {
    url: read.url('url'),
    method: read.method('method'),
    statusCallback: read.url('statusCallback'),
    statusCallbackEvent: read.list('statusCallbackEvent', CALL_PROGRESS_EVENTS, ['completed']),
    statusCallbackMethod: read.method('statusCallbackMethod'),
  };
  let noun: DialEndpointNoun;
  if (element.name === 'Client') {
    noun = { noun: 'Client', ...common, ...parseClientContent(read) };
  } else {
    const nested = childElements(element)[0];
    if (nested !== undefined) throw read.error(`<${element.name}> cannot contain <${nested.name}>`);
    const text = directText(element).trim();
    if (element.name === 'Sip') {
      if (!/^sips?:\S+$/i.test(text)) {
        throw read.error(`<Sip> text "${text}" is not a SIP URI; it must start with sip: or sips:`);
      }
      const sip: SipNoun = { noun: 'Sip', uri: text, username: read.string('username'), password: read.string('password'), ...common };
      noun = sip;
    } else {
      if (text === '') throw read.error('<Number> has no number: put the number as its text');
      const sendDigits = read.string('sendDigits');
      if (sendDigits !== undefined && !isSendableDigits(sendDigits)) {
        throw read.error(`<Number> attribute sendDigits="${sendDigits}" is invalid: ${SENDABLE_DIGITS_RULE}`, 'sendDigits');
      }
      noun = { noun: 'Number', number: text, sendDigits, ...common };
    }
  }
  read.finish();
  return noun;
}

/** `<Client>alice</Client>` or `<Client><Identity>alice</Identity><Parameter …/></Client>`. */
function parseClientContent(read: AttributeReader): Pick<ClientNoun, 'identity' | 'parameters'> {
  const element = read.element;
  const parameters: { name: string; value: string }[] = [];
  let identity = directText(element).trim();
  for (const child of element.children.filter(isElement)) {
    if (child.name === 'Identity') {
      identity = directText(child).trim();
    } else if (child.name === 'Parameter') {
      const name = child.attributes.get('name')?.trim();
      if (name === undefined || name === '') throw read.error('<Client><Parameter> has no name attribute');
      parameters.push({ name, value: child.attributes.get('value') ?? '' });
    } else {
      throw read.error(`<Client> cannot contain <${child.name}>; use <Identity> and <Parameter>`);
    }
  }
  if (identity === '') throw read.error('<Client> has no identity: put it as its text or in <Identity>');
  return { identity, parameters };
}
