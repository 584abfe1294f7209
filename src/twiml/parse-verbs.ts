/**
 * The verbs other than `<Dial>` that Conclave runs: `<Play>`, `<Pause>`, `<Say>`, `<Hangup>`,
 * `<Redirect>` and `<Reject>`, with Twilio's defaults.
 * https://www.twilio.com/docs/voice/twiml/play, …/pause, …/say, …/hangup, …/redirect, …/reject
 */
import { AttributeReader, type ParseContext } from './attribute-reader.js';
import { isSendableDigits, SENDABLE_DIGITS_RULE } from './dtmf-digits.js';
import { childElements, deepText, directText, type TwimlElement } from './twiml-element.js';
import type { HangupVerb, PauseVerb, PlayVerb, RedirectVerb, RejectVerb, SayVerb } from './verbs.js';

/** Twilio stops a `loop="0"` after 1000 repetitions, and accepts no more than that. */
const MAX_LOOP = 1000;

export function parsePlay(element: TwimlElement, context: ParseContext): PlayVerb {
  const read = new AttributeReader(element, context);
  const text = leafText(read);
  const digits = read.string('digits');
  if (digits !== undefined && !isSendableDigits(digits)) {
    throw read.error(`<Play> attribute digits="${digits}" is invalid: ${SENDABLE_DIGITS_RULE}`, 'digits');
  }
  if (text === '' && digits === undefined) throw read.error('<Play> has no URL: put the audio URL as its text');
  const verb: PlayVerb = {
    verb: 'Play',
    url: text === '' ? undefined : read.checkUrl(text),
    loop: read.integer('loop', 1, 0, MAX_LOOP),
    digits,
  };
  read.finish();
  return verb;
}

export function parsePause(element: TwimlElement, context: ParseContext): PauseVerb {
  const read = new AttributeReader(element, context);
  leafText(read, { warnAboutText: true });
  const verb: PauseVerb = { verb: 'Pause', length: read.integer('length', 1, 1) };
  read.finish();
  return verb;
}

export function parseSay(element: TwimlElement, context: ParseContext): SayVerb {
  const read = new AttributeReader(element, context);
  // SSML children (<break>, <prosody>, …) are allowed; their text is what gets said.
  const text = deepText(element).replace(/\s+/g, ' ').trim();
  if (text === '') read.warn('<Say> has no text and will say nothing');
  const verb: SayVerb = {
    verb: 'Say',
    text,
    voice: read.string('voice') ?? 'man',
    language: read.string('language') ?? 'en-US',
    loop: read.integer('loop', 1, 0, MAX_LOOP),
  };
  read.finish();
  return verb;
}

export function parseHangup(element: TwimlElement, context: ParseContext): HangupVerb {
  const read = new AttributeReader(element, context);
  leafText(read, { warnAboutText: true });
  read.finish();
  return { verb: 'Hangup' };
}

export function parseRedirect(element: TwimlElement, context: ParseContext): RedirectVerb {
  const read = new AttributeReader(element, context);
  const text = leafText(read);
  // An empty <Redirect/> requests the current document again: Twilio's loop idiom
  // (https://www.twilio.com/docs/voice/twiml/redirect).
  const verb: RedirectVerb = { verb: 'Redirect', url: text === '' ? undefined : read.checkUrl(text), method: read.method('method') };
  read.finish();
  return verb;
}

export function parseReject(element: TwimlElement, context: ParseContext): RejectVerb {
  const read = new AttributeReader(element, context);
  leafText(read, { warnAboutText: true });
  const verb: RejectVerb = { verb: 'Reject', reason: read.oneOf('reason', ['rejected', 'busy'] as const, 'rejected') };
  read.finish();
  return verb;
}

/** The trimmed text of an element that may not contain elements. */
function leafText(read: AttributeReader, options: { warnAboutText?: boolean } = {}): string {
  const nested = childElements(read.element)[0];
  if (nested !== undefined) throw read.error(`<${read.element.name}> cannot contain <${nested.name}>`);
  const text = directText(read.element).trim();
  if (options.warnAboutText && text !== '') read.warn(`<${read.element.name}> text "${text}" was ignored`);
  return text;
}
