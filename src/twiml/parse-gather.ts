/**
 * `<Gather>`: collect keys the caller presses while nested `<Say>`, `<Play>` and `<Pause>` run
 * (https://www.twilio.com/docs/voice/twiml/gather). Defaults as Twilio documents them: `action`
 * the current document, `method` POST, `timeout` 5 s, `finishOnKey` `#` (one of 0–9, `*`, `#`,
 * or empty for none), `numDigits` unlimited, `actionOnEmptyResult` false, `input` dtmf.
 *
 * Conclave has no speech recognition: `input="speech"` alone is refused as not supported (the
 * call fails as an application error rather than waiting for words that are never heard);
 * `input="dtmf speech"` gathers keys and says, in a warning, that speech is not listened to. The
 * speech attributes are read and named in that warning, never silently dropped.
 */
import { AttributeReader, type ParseContext } from './attribute-reader.js';
import { parsePause, parsePlay, parseSay } from './parse-verbs.js';
import { childElements, directText, type TwimlElement } from './twiml-element.js';
import type { GatherInput, GatherPrompt, GatherVerb } from './verbs.js';

const INPUTS: readonly GatherInput[] = ['dtmf', 'speech'];
const FINISH_KEYS = /^[0-9*#]$/;
/** Attributes that only matter to speech recognition. */
const SPEECH_ATTRIBUTES = [
  'hints',
  'language',
  'speechTimeout',
  'speechModel',
  'profanityFilter',
  'partialResultCallback',
  'partialResultCallbackMethod',
  'enhanced',
  'maxSpeechTime',
  'bargeIn',
];
const NO_SPEECH = 'Conclave has no speech recognition';

const PROMPTS: ReadonlyMap<string, (element: TwimlElement, context: ParseContext) => GatherPrompt> = new Map<
  string,
  (element: TwimlElement, context: ParseContext) => GatherPrompt
>([
  ['Say', parseSay],
  ['Play', parsePlay],
  ['Pause', parsePause],
]);

export function parseGather(element: TwimlElement, context: ParseContext): GatherVerb {
  const read = new AttributeReader(element, context);
  const input = read.list('input', INPUTS, ['dtmf']);
  if (input.length === 0) throw read.error('<Gather> attribute input is empty: use dtmf', 'input');
  if (!input.includes('dtmf')) {
    throw read.error(`<Gather input="speech"> is not supported: ${NOT_LISTENING}`, 'input');
  }
  const verb: GatherVerb = {
    verb: 'Gather',
    action: read.url('action'),
    method: read.method('method'),
    timeout: read.integer('timeout', 5, 1, 600),
    finishOnKey: finishOnKey(read),
    numDigits: numDigits(read),
    actionOnEmptyResult: read.boolean('actionOnEmptyResult', false),
    input,
    prompts: prompts(read, context),
  };
  if (input.includes('speech')) read.warn(`<Gather input="${input.join(' ')}"> gathers keys only: ${NOT_LISTENING}`);
  for (const name of SPEECH_ATTRIBUTES) read.notActedOn(name, true, NO_SPEECH);
  read.notActedOn('debug', true, 'Conclave does not send Gather debug events');
  read.finish();
  return verb;
}

const NOT_LISTENING = `${NO_SPEECH}, so nothing would ever be heard; gather keys with input="dtmf"`;

/** Empty is allowed (no finish key); Twilio's 13310 names the valid keys. */
function finishOnKey(read: AttributeReader): string {
  const raw = read.element.attributes.get('finishOnKey');
  read.string('finishOnKey'); // marks it read
  if (raw === undefined) return '#';
  const key = raw.trim();
  if (key === '' || FINISH_KEYS.test(key)) return key;
  throw read.error(`<Gather> attribute finishOnKey="${raw}" is invalid: it must be one of 0-9, * and #, or empty (Twilio 13310)`, 'finishOnKey');
}

function numDigits(read: AttributeReader): number | undefined {
  if (read.string('numDigits') === undefined) return undefined;
  return read.integer('numDigits', 1, 1);
}

function prompts(read: AttributeReader, context: ParseContext): GatherPrompt[] {
  const text = directText(read.element).trim();
  if (text !== '') read.warn(`<Gather> text "${text}" was ignored: put it in a <Say>`);
  return childElements(read.element).map((child) => {
    const parse = PROMPTS.get(child.name);
    if (parse === undefined) throw read.error(`<Gather> cannot contain <${child.name}>; only <Say>, <Play> and <Pause> may be nested`);
    return parse(child, context);
  });
}
