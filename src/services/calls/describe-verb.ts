/**
 * A TwiML verb as a call's timeline names it (domain/call-timeline.ts): the verb and the
 * attributes that say what it does — `<Dial>` its noun, `<Say>` its text (cut short),
 * `<Gather>` its settings — not every default. https://www.twilio.com/docs/voice/twiml
 */
import type { VerbSummary } from '../../domain/call-timeline.js';
import type { DialEndpointNoun, TwimlVerb } from '../../twiml/verbs.js';

/** Longest `<Say>` text kept. */
const SAY_TEXT_LIMIT = 120;

export function describeVerb(verb: TwimlVerb): VerbSummary {
  return { verb: verb.verb, attributes: defined(attributesOf(verb)) };
}

function attributesOf(verb: TwimlVerb): Record<string, string | number | boolean | undefined> {
  switch (verb.verb) {
    case 'Dial':
      if (verb.conference) return { noun: 'Conference', name: verb.conference.name, action: verb.action };
      return { noun: verb.endpoints.map(nounText).join(', '), timeout: verb.timeout, action: verb.action, record: verb.record === 'do-not-record' ? undefined : verb.record };
    case 'Say':
      return { text: verb.text.length <= SAY_TEXT_LIMIT ? verb.text : `${verb.text.slice(0, SAY_TEXT_LIMIT - 1)}…`, voice: verb.voice, language: verb.language, loop: verb.loop === 1 ? undefined : verb.loop };
    case 'Play':
      return { url: verb.url, digits: verb.digits, loop: verb.loop === 1 ? undefined : verb.loop };
    case 'Pause':
      return { length: verb.length };
    case 'Gather':
      return {
        input: verb.input.join(' '),
        numDigits: verb.numDigits,
        finishOnKey: verb.finishOnKey,
        timeout: verb.timeout,
        action: verb.action,
        prompts: verb.prompts.length === 0 ? undefined : verb.prompts.map((prompt) => prompt.verb).join(', '),
      };
    case 'Record':
      return { maxLength: verb.maxLength, timeout: verb.timeout, finishOnKey: verb.finishOnKey, action: verb.action };
    case 'Redirect':
      return { url: verb.url, method: verb.method };
    case 'Reject':
      return { reason: verb.reason };
    case 'Hangup':
      return {};
  }
}

function nounText(noun: DialEndpointNoun): string {
  switch (noun.noun) {
    case 'Number':
      return `Number ${noun.number}`;
    case 'Sip':
      return `Sip ${noun.uri}`;
    case 'Client':
      return `Client ${noun.identity}`;
  }
}

function defined(values: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) kept[key] = String(value);
  return kept;
}
