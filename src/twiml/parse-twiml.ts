/**
 * `parseTwiml`: a TwiML voice document → the typed verbs Conclave runs, in document order, or a
 * TwimlError saying exactly what is wrong and where. TwiML that Conclave cannot run faithfully
 * (`<Enqueue>`, `<Connect>`…) is refused up front, so the call fails as an
 * application error instead of silently skipping a verb the application relies on.
 *
 * Verbs and nesting: https://www.twilio.com/docs/voice/twiml. Verb and attribute names are
 * case-sensitive, as in Twilio; attribute values are not (booleans, enums, methods).
 */
import type { ParseContext } from './attribute-reader.js';
import { parseDial } from './parse-dial.js';
import { parseGather } from './parse-gather.js';
import { parseRecord } from './parse-record.js';
import { parseHangup, parsePause, parsePlay, parseRedirect, parseReject, parseSay } from './parse-verbs.js';
import { TwimlError, TwimlErrorCode } from './twiml-error.js';
import { isElement, parseResponseElement, type TwimlElement } from './twiml-element.js';
import type { TwimlDocument, TwimlVerb } from './verbs.js';

type VerbParser = (element: TwimlElement, context: ParseContext) => TwimlVerb;

const VERBS: ReadonlyMap<string, VerbParser> = new Map<string, VerbParser>([
  ['Dial', parseDial],
  ['Gather', parseGather],
  ['Record', parseRecord],
  ['Play', parsePlay],
  ['Pause', parsePause],
  ['Say', parseSay],
  ['Hangup', parseHangup],
  ['Redirect', parseRedirect],
  ['Reject', parseReject],
]);

/** Twilio voice verbs that Conclave does not run. */
const UNSUPPORTED_VERBS = new Set([
  'Connect',
  'Echo',
  'Enqueue',
  'Leave',
  'Message',
  'Pay',
  'Prompt',
  'Queue',
  'Refer',
  'Sms',
  'Start',
  'Stop',
]);

/** Nouns that are valid TwiML only inside `<Dial>`. */
const DIAL_NOUNS = new Set(['Conference', 'Number', 'Sip', 'Client']);

export interface ParseTwimlOptions {
  /**
   * The URL the document was fetched from. When given, relative URLs in the document (`action`,
   * `<Redirect>`, `<Play>`, callbacks…) are resolved against it; otherwise they are kept as written.
   */
  documentUrl?: string;
}

export function parseTwiml(xml: string, options: ParseTwimlOptions = {}): TwimlDocument {
  const response = parseResponseElement(xml);
  const context: ParseContext = { warnings: [], documentUrl: documentUrl(options.documentUrl) };
  if (response.attributes.size > 0) {
    context.warnings.push(`<Response> attributes were ignored: ${[...response.attributes.keys()].join(', ')}`);
  }
  const verbs: TwimlVerb[] = [];
  for (const node of response.children) {
    if (!isElement(node)) {
      const text = node.text.trim();
      if (text !== '') context.warnings.push(`text "${text}" directly in <Response> was ignored`);
      continue;
    }
    const parse = VERBS.get(node.name);
    if (parse === undefined) throw unknownVerb(node);
    verbs.push(parse(node, context));
  }
  return { verbs, warnings: context.warnings };
}

function unknownVerb(element: TwimlElement): TwimlError {
  const detail = { path: element.path, element: element.name };
  if (DIAL_NOUNS.has(element.name)) {
    return new TwimlError(
      TwimlErrorCode.schemaValidation,
      `<${element.name}> must be inside <Dial>, not directly in <Response>`,
      detail,
    );
  }
  if (UNSUPPORTED_VERBS.has(element.name)) {
    return new TwimlError(TwimlErrorCode.schemaValidation, `<${element.name}> is not supported by Conclave`, detail);
  }
  const near = [...VERBS.keys(), ...UNSUPPORTED_VERBS, ...DIAL_NOUNS].find(
    (verb) => verb.toLowerCase() === element.name.toLowerCase(),
  );
  const hint = near === undefined ? '' : ` (verbs are case-sensitive: did you mean <${near}>?)`;
  return new TwimlError(TwimlErrorCode.schemaValidation, `<${element.name}> is not a TwiML verb${hint}`, detail);
}

function documentUrl(url: string | undefined): URL | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url);
  } catch {
    throw new TypeError(`parseTwiml: documentUrl "${url}" is not an absolute URL`);
  }
}
