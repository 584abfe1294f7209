/**
 * A whisper: the TwiML of `<Number url>`, `<Sip url>` or `<Client url>`, run on the called party
 * once it answers and before it is bridged with the caller, who keeps hearing ringback
 * (https://www.twilio.com/docs/voice/twiml/number#url, …/glossary/call-whisper). It may
 * `<Play>`, `<Say>`, `<Pause>`, `<Gather>` ("press 1 to accept": the action's TwiML goes on),
 * `<Redirect>` and `<Hangup>`; `<Hangup>` (or `<Reject>`) declines: the called party is hung up
 * and never bridged. `<Dial>` is not allowed in a whisper (Twilio: "TwiML documents executed in
 * this manner are not allowed to contain the <Dial> verb"): an application error, so declined.
 * Requests carry the called party's call (its CallSid, `ParentCallSid` the caller's).
 */
import type { Call, HttpMethod } from '../../domain/call.js';
import { parseTwiml } from '../../twiml/parse-twiml.js';
import type { TwimlDocument } from '../../twiml/verbs.js';
import { documentAgain, type CallApplicationSource } from './call-application.js';
import type { CallRuntime } from './call-runtime.js';
import { RedirectLoopGuard } from './redirect-loop-guard.js';
import { runGather } from './run-gather.js';
import { runPrompt } from './run-prompt.js';
import { logFailure } from './application-error-log.js';
import { describeVerb } from './describe-verb.js';

/** Whether the whisper let the call through (`bridge`) or declined it (`hangup`, also when aborted). */
export type WhisperOutcome = 'bridge' | 'hangup';

export async function runWhisper(rt: CallRuntime, call: Call, url: string, method: HttpMethod, signal: AbortSignal): Promise<WhisperOutcome> {
  const loops = new RedirectLoopGuard(() => rt.logger.warn({ callSid: call.sid }, 'whisper documents loop with nothing heard between them: fetching at most one a second'));
  let next: CallApplicationSource | undefined = { kind: 'url', url, method, fallbackUrl: null, fallbackMethod: 'POST' };
  while (next !== undefined) {
    if (signal.aborted || !(await loops.pace(signal))) return 'hangup';
    const loaded = await load(rt, call, next, signal);
    if (loaded === undefined) return 'hangup';
    const step = await runDocument(rt, call, loaded.document, loaded.source, signal);
    if (step === 'hangup') return 'hangup';
    next = step;
  }
  return signal.aborted ? 'hangup' : 'bridge';
}

async function load(
  rt: CallRuntime,
  call: Call,
  source: CallApplicationSource,
  signal: AbortSignal,
): Promise<{ document: TwimlDocument; source: CallApplicationSource } | undefined> {
  if (source.kind !== 'url') return undefined;
  try {
    const fetched = await rt.twiml.fetch({ call, ...source, signal });
    const document = parseTwiml(fetched.twiml, { documentUrl: fetched.url });
    if (document.warnings.length > 0) rt.logger.warn({ callSid: call.sid, warnings: document.warnings }, `whisper TwiML warnings: ${document.warnings.join('; ')}`);
    return { document, source: { kind: 'url', url: fetched.url, method: source.method, fallbackUrl: null, fallbackMethod: 'POST' } };
  } catch (error) {
    if (!signal.aborted) logFailure(rt.logger, { callSid: call.sid }, 'application error in the whisper (the called party is not connected)', error);
    return undefined;
  }
}

/** Runs one whisper document: the next document to run, `hangup`, or undefined at its end (bridge). */
async function runDocument(
  rt: CallRuntime,
  call: Call,
  document: TwimlDocument,
  source: CallApplicationSource,
  signal: AbortSignal,
): Promise<CallApplicationSource | 'hangup' | undefined> {
  for (const verb of document.verbs) {
    if (signal.aborted) return 'hangup';
    rt.notifier.verbStarted?.(call, describeVerb(verb));
    switch (verb.verb) {
      case 'Play':
      case 'Say':
      case 'Pause':
        await runPrompt(rt, call, verb, signal);
        break;
      case 'Gather': {
        const outcome = await runGather(rt, call, verb, signal, source);
        if (outcome.kind === 'hangup') return 'hangup';
        if (outcome.kind === 'action') return outcome.source;
        break;
      }
      case 'Redirect':
        return verb.url === undefined ? documentAgain(source, verb.method) : { kind: 'url', url: verb.url, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST' };
      case 'Hangup':
      case 'Reject':
        return 'hangup';
      case 'Dial':
        rt.logger.warn({ callSid: call.sid }, 'application error in the whisper: <Dial> is not allowed in a whisper; the called party is not connected');
        return 'hangup';
    }
  }
  return undefined;
}
