/**
 * Reads what a HoldUrl, WaitUrl or AnnounceUrl gives. Twilio's rule (twilio-oai
 * UpdateParticipant `HoldUrl`): the URL answers with an audio file (MP3, WAV, μ-law), or with TwiML
 * made only of `<Play>`, `<Say>`, `<Pause>` and `<Redirect>`. One document is one pass: its
 * sounds in order, up to a `<Redirect>`, which says what comes next — an empty `<Redirect/>`
 * is the same document, fetched again (https://www.twilio.com/docs/voice/twiml/redirect).
 */
import type { DocumentFetcher, PlaylistItem } from '../../domain/call-ports.js';
import type { HttpMethod } from '../../domain/call.js';
import { RuleViolation, TwilioCode } from '../../errors.js';
import { parseTwiml } from '../../twiml/parse-twiml.js';

const MAX_REDIRECTS = 5;

export interface AudioUrl {
  url: string;
  method: HttpMethod;
  accountSid: string;
  /** The request parameters (the call's, or the conference's). */
  params: Record<string, string>;
  /** Gives the fetch up (the participant left, the music stopped). */
  signal?: AbortSignal;
}

/** One fetched document: an audio file to play as it is, or one pass of TwiML and where it leads. */
export type AudioDocument =
  | { kind: 'audio'; url: string }
  | { kind: 'twiml'; items: PlaylistItem[]; redirect: { url: string; method: HttpMethod } | undefined };

export async function readAudioDocument(fetcher: DocumentFetcher, audio: AudioUrl): Promise<AudioDocument> {
  const document = await fetcher.fetchDocument(audio);
  if (isAudio(document.contentType, document.body)) return { kind: 'audio', url: document.url };
  const twiml = parseTwiml(document.body, { documentUrl: document.url });
  const items: PlaylistItem[] = [];
  for (const verb of twiml.verbs) {
    switch (verb.verb) {
      case 'Play':
        if (verb.url !== undefined) items.push({ kind: 'play', url: verb.url, loop: verb.loop });
        break;
      case 'Say':
        items.push({ kind: 'say', text: verb.text, voice: verb.voice, language: verb.language, loop: verb.loop });
        break;
      case 'Pause':
        items.push({ kind: 'pause', seconds: verb.length });
        break;
      case 'Redirect':
        // What follows a Redirect never runs, as in a call's TwiML.
        return { kind: 'twiml', items, redirect: { url: verb.url ?? document.url, method: verb.method } };
      default:
        throw new RuleViolation(TwilioCode.invalidParameter, `${audio.url}: <${verb.verb}> cannot be played; use <Play>, <Say>, <Pause> or <Redirect>`);
    }
  }
  return { kind: 'twiml', items, redirect: undefined };
}

/**
 * An audio file, not TwiML: served as `audio/*`, or as a type that says nothing (none,
 * `application/octet-stream`) with a body that is not XML — an MP3 or `.ul` file from a
 * plain file server. The media fetcher then decodes it by its own rules.
 */
function isAudio(contentType: string, body: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('audio/')) return true;
  const untyped = type === '' || type === 'application/octet-stream' || type === 'binary/octet-stream';
  return untyped && !body.trimStart().replace(/^\uFEFF/, '').startsWith('<');
}

/** Everything an announcement plays: the document and the ones it redirects to (a few hops at most). */
export async function resolveAudio(fetcher: DocumentFetcher, audio: AudioUrl): Promise<PlaylistItem[]> {
  const items: PlaylistItem[] = [];
  let next: AudioUrl | undefined = audio;
  for (let hops = 0; next; hops++) {
    if (hops > MAX_REDIRECTS) throw new RuleViolation(TwilioCode.invalidParameter, `${audio.url}: more than ${MAX_REDIRECTS} redirects`);
    const document = await readAudioDocument(fetcher, next);
    if (document.kind === 'audio') return [...items, { kind: 'play', url: document.url, loop: 1 }];
    items.push(...document.items);
    next = document.redirect && { ...next, ...document.redirect };
  }
  return items;
}
