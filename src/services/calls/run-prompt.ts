/**
 * The verbs that only play something to the call — `<Play>` (audio, or keys with `digits`),
 * `<Say>` and `<Pause>` — as a document runs them, as `<Gather>` nests them, and as a whisper
 * plays them to a called party. Each resolves when done, or at once when `signal` aborts.
 */
import type { Call } from '../../domain/call.js';
import type { GatherPrompt } from '../../twiml/verbs.js';
import type { CallRuntime } from './call-runtime.js';
import { sleep } from './sleep.js';

export async function runPrompt(rt: CallRuntime, call: Call, verb: GatherPrompt, signal: AbortSignal): Promise<void> {
  switch (verb.verb) {
    case 'Play':
      // `<Play digits>` sends keys to the far end (https://www.twilio.com/docs/voice/twiml/play#attributes-digits).
      if (verb.digits !== undefined) await rt.keypad.send(call.sid, verb.digits, signal);
      if (verb.url !== undefined && !signal.aborted) await rt.audio.play(call, { kind: 'play', url: verb.url, loop: verb.loop }, signal);
      return;
    case 'Say':
      await rt.audio.play(call, { kind: 'say', text: verb.text, voice: verb.voice, language: verb.language, loop: verb.loop }, signal);
      return;
    case 'Pause':
      await sleep(verb.length * 1000, signal);
      return;
  }
}
