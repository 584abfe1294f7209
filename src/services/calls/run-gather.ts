/**
 * `<Gather>` for keys (https://www.twilio.com/docs/voice/twiml/gather): the nested prompts play
 * in order and the first key stops them (barge-in); then Conclave waits `timeout` seconds for
 * each further key. Input ends on `finishOnKey` (not part of `Digits`), on `numDigits` keys, or
 * on the timeout. With keys, the action is requested with `Digits` and `FinishedOnKey` — by
 * default the current document's URL, so an app can post back to itself. With none (the
 * timeout, or the finish key alone) the document goes on with the next verb, as Twilio does,
 * unless `actionOnEmptyResult` asks for the action with empty `Digits`.
 *
 * Keys are listened to from the moment the Gather starts: a key pressed during an earlier verb
 * is not kept, as Twilio documents none being buffered.
 */
import type { Call } from '../../domain/call.js';
import type { GatherReport } from '../../domain/call-ports.js';
import type { GatherVerb } from '../../twiml/verbs.js';
import type { CallApplicationSource } from './call-application.js';
import type { CallRuntime } from './call-runtime.js';
import { runPrompt } from './run-prompt.js';
import { logFailure } from './application-error-log.js';

/** Where a Gather goes: the action with what was gathered, on with the document, or nowhere (hung up). */
export type GatherOutcome = { kind: 'action'; source: CallApplicationSource } | { kind: 'next' } | { kind: 'hangup' };

export async function runGather(rt: CallRuntime, call: Call, verb: GatherVerb, signal: AbortSignal, document: CallApplicationSource): Promise<GatherOutcome> {
  const report = await collectKeys(rt, call, verb, signal);
  if (report === undefined) return { kind: 'hangup' };
  rt.notifier.gathered?.(call, report);
  if (report.digits === '' && !verb.actionOnEmptyResult) return { kind: 'next' };
  const action = verb.action ?? (document.kind === 'url' ? document.url : undefined);
  if (action === undefined) {
    // Inline TwiML has no URL to post back to; Twilio's default action does not exist here.
    rt.logger.warn({ callSid: call.sid }, '<Gather> without action in inline TwiML: the keys have nowhere to go; the next verb runs');
    return { kind: 'next' };
  }
  return { kind: 'action', source: { kind: 'url', url: action, method: verb.method, fallbackUrl: null, fallbackMethod: 'POST', gather: report } };
}

/** The keys pressed, or undefined when `signal` aborted (the call hung up or moved on). */
function collectKeys(rt: CallRuntime, call: Call, verb: GatherVerb, signal: AbortSignal): Promise<GatherReport | undefined> {
  return new Promise((resolve) => {
    const keys: string[] = [];
    const bargeIn = new AbortController();
    let prompting = true;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (finishedOnKey: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopListening();
      signal.removeEventListener('abort', aborted);
      bargeIn.abort();
      resolve(finishedOnKey === undefined ? undefined : { digits: keys.join(''), finishedOnKey });
    };
    const aborted = (): void => finish(undefined);
    const waitForKey = (): void => {
      if (done) return;
      clearTimeout(timer);
      timer = setTimeout(() => finish(''), verb.timeout * 1000);
    };
    const stopListening = rt.keypad.listen(call.sid, (key) => {
      if (done) return;
      bargeIn.abort();
      if (verb.finishOnKey !== '' && key === verb.finishOnKey) return finish(key);
      keys.push(key);
      if (verb.numDigits !== undefined && keys.length >= verb.numDigits) return finish('');
      if (!prompting) waitForKey();
    });
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    void (async () => {
      const prompts = AbortSignal.any([signal, bargeIn.signal]);
      for (const prompt of verb.prompts) {
        if (prompts.aborted) break;
        await runPrompt(rt, call, prompt, prompts);
      }
      prompting = false;
      // The timeout counts from the end of the prompts (or the key that cut them short).
      if (!signal.aborted) waitForKey();
    })().catch((error: unknown) => {
      logFailure(rt.logger, { callSid: call.sid }, '<Gather>: a prompt failed (waiting for keys)', error);
      prompting = false;
      if (!signal.aborted) waitForKey();
    });
  });
}
