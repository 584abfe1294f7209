/**
 * `<Record>` (https://www.twilio.com/docs/voice/twiml/record) with Twilio's defaults: `action`
 * the current document, `method` POST, `timeout` 5 s of silence, `finishOnKey` any key
 * (`1234567890*#`), `maxLength` 3600 s, `playBeep` true, `trim` trim-silence, and the recording
 * status callback attributes. Transcription is not offered by Conclave: `transcribe="true"` and
 * `transcribeCallback` are named in a warning.
 */
import { AttributeReader, type ParseContext } from './attribute-reader.js';
import { RECORDING_EVENTS } from './parse-conference.js';
import { childElements, directText, type TwimlElement } from './twiml-element.js';
import type { RecordVerb } from './verbs.js';

const KEYS = /^[0-9*#]*$/;
const MAX_LENGTH = 86_400;

export function parseRecord(element: TwimlElement, context: ParseContext): RecordVerb {
  const read = new AttributeReader(element, context);
  const nested = childElements(element)[0];
  if (nested !== undefined) throw read.error(`<Record> cannot contain <${nested.name}>`);
  const text = directText(element).trim();
  if (text !== '') read.warn(`<Record> text "${text}" was ignored`);
  const verb: RecordVerb = {
    verb: 'Record',
    action: read.url('action'),
    method: read.method('method'),
    timeout: read.integer('timeout', 5, 0, 3600),
    finishOnKey: finishOnKey(read),
    maxLength: read.integer('maxLength', 3600, 1, MAX_LENGTH),
    playBeep: read.boolean('playBeep', true),
    trim: read.oneOf('trim', ['trim-silence', 'do-not-trim'] as const, 'trim-silence'),
    recordingStatusCallback: read.url('recordingStatusCallback'),
    recordingStatusCallbackMethod: read.method('recordingStatusCallbackMethod'),
    recordingStatusCallbackEvent: read.list('recordingStatusCallbackEvent', RECORDING_EVENTS, ['completed']),
  };
  const transcribe = read.boolean('transcribe', false);
  read.notActedOn('transcribe', transcribe, 'Conclave does not transcribe recordings');
  read.notActedOn('transcribeCallback', true, 'Conclave does not transcribe recordings');
  read.finish();
  return verb;
}

/** Any of 0–9, `*`, `#` (each ends the recording), or empty for none. */
function finishOnKey(read: AttributeReader): string {
  const raw = read.element.attributes.get('finishOnKey');
  read.string('finishOnKey'); // marks it read
  if (raw === undefined) return '1234567890*#';
  const keys = raw.trim();
  if (KEYS.test(keys)) return keys;
  throw read.error(`<Record> attribute finishOnKey="${raw}" is invalid: it may hold only 0-9, * and #, or be empty`, 'finishOnKey');
}
