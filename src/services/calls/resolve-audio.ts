/**
 * Turns a HoldUrl, WaitUrl or AnnounceUrl into what will be played. Twilio's rule
 * (twilio-oai UpdateParticipant `HoldUrl`): the URL gives an audio file, or TwiML made only of
 * `<Play>`, `<Say>`, `<Pause>` and `<Redirect>`; a redirect is followed (up to a few hops).
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
}

export async function resolveAudio(fetcher: DocumentFetcher, audio: AudioUrl, redirects = 0): Promise<PlaylistItem[]> {
  const document = await fetcher.fetchDocument(audio);
  const type = document.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('audio/')) return [{ kind: 'play', url: document.url, loop: 1 }];
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
        if (redirects >= MAX_REDIRECTS) throw new RuleViolation(TwilioCode.invalidParameter, `${audio.url}: more than ${MAX_REDIRECTS} redirects`);
        return [...items, ...(await resolveAudio(fetcher, { ...audio, url: verb.url, method: verb.method }, redirects + 1))];
      default:
        throw new RuleViolation(TwilioCode.invalidParameter, `${audio.url}: <${verb.verb}> cannot be played; use <Play>, <Say>, <Pause> or <Redirect>`);
    }
  }
  return items;
}
