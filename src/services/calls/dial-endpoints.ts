/**
 * `<Dial>` to phones (https://www.twilio.com/docs/voice/twiml/dial): each `<Sip>`, `<Number>`
 * or `<Client>` noun becomes a child call (`outbound-dial`, `ParentCallSid` = the caller),
 * all ringing together for the Dial's `timeout`; the first to answer is bridged with the caller
 * and the others are cancelled. The bridge lasts until either side hangs up or `timeLimit`
 * passes; the caller then goes on with `action` (DialCallStatus, DialCallSid, DialCallDuration,
 * DialBridged — the first line dialled when none answered) or the next
 * verb. Each child call has Twilio's status moves and the noun's own status callback.
 *
 * The caller hears ringback until the bridge. The line that answers first gets its
 * `sendDigits` and runs its whisper (`url`, run-whisper.ts) before it is bridged; a whisper
 * that hangs up declines the call (DialCallStatus `completed`, DialBridged false). With
 * `hangupOnStar` the caller's `*` ends the bridge (the Dial ends `completed`).
 *
 * `answerOnBridge="true"` on an inbound call not yet answered: the caller hears ringback as early
 * media while the lines ring and is answered only when one of them answers, just before the
 * bridge; when none does, it is still unanswered and the Dial's status says why.
 *
 * What reaches a phone: `sip:` URIs (with the noun's username/password for digest), numbers
 * through the carrier trunk, `<Client>` identities (every browser signed in as it, given the
 * noun's `<Parameter>`s) and, for trying things out, a `<Number>` written as a `sim:` address.
 */
import type { Call, CallStatus } from '../../domain/call.js';
import type { DialCallStatus, DialReport, DialResult, ProgressDetail, RemoteLeg } from '../../domain/call-ports.js';
import { parseEndpoint, type Endpoint } from '../../domain/endpoint.js';
import { newSid } from '../../domain/sids.js';
import type { DialEndpointNoun, DialVerb } from '../../twiml/verbs.js';
import { newOutboundCall } from './create-call.js';
import { DialRecorder } from './dial-recorder.js';
import { sleep } from './sleep.js';
import { runWhisper, type WhisperOutcome } from './run-whisper.js';
import { listenForStar } from './star-key.js';
import type { CallRuntime } from './call-runtime.js';

/** The caller of a `<Dial answerOnBridge>` that is not answered yet. */
export interface AnswerOnBridge {
  /** Answers the caller; false when it is gone (hung up while the line rang). */
  answer(): Promise<boolean>;
  /** No line answered: the caller is still not answered, for this reason. */
  notAnswered(status: DialCallStatus): void;
}


function endpointOf(noun: DialEndpointNoun): Endpoint | string {
  if (noun.noun === 'Sip') return parseEndpoint(noun.uri);
  if (noun.noun === 'Number') return parseEndpoint(noun.number);
  return { kind: 'client', identity: noun.identity };
}

function childCall(parent: Call, noun: DialEndpointNoun, to: string, verb: DialVerb, now: number): Call {
  const request = {
    accountSid: parent.accountSid,
    to,
    // Twilio's default caller ID for <Dial>: the calling party's number.
    from: verb.callerId ?? parent.from,
    url: null,
    method: 'POST' as const,
    fallbackUrl: null,
    fallbackMethod: 'POST' as const,
    twiml: null,
    statusCallback: noun.statusCallback ?? null,
    statusCallbackMethod: noun.statusCallbackMethod,
    statusCallbackEvents: [...noun.statusCallbackEvent],
    timeout: verb.timeout,
  };
  return newOutboundCall(request, now, newSid('CA'), parent);
}

/** The Dial's status when nobody answered: busy if any line was busy, then no-answer, then failed. */
function unanswered(results: DialResult[], canceled: boolean): DialCallStatus {
  if (canceled) return 'canceled';
  if (results.some((r) => r.outcome === 'busy')) return 'busy';
  if (results.some((r) => r.outcome === 'no-answer')) return 'no-answer';
  return 'failed';
}

/** What the Dial's action is told when nobody answered: the first line dialled, never bridged. */
function notBridged(status: DialCallStatus, first: Call | undefined): DialReport {
  return { status, ...(first ? { leg: { callSid: first.sid, durationSeconds: 0, bridged: false } } : {}) };
}

const sipDetail = (code: number | undefined): ProgressDetail => (code === undefined ? {} : { sipResponseCode: code });

export async function dialEndpoints(rt: CallRuntime, parent: Call, verb: DialVerb, signal: AbortSignal, onBridge?: AnswerOnBridge): Promise<DialReport> {
  const recorder = new DialRecorder(rt, parent, verb);
  if (recorder.fromRinging) await recorder.start();
  return recorder.finish(await dialPhones(rt, parent, verb, signal, recorder, onBridge));
}

async function dialPhones(rt: CallRuntime, parent: Call, verb: DialVerb, signal: AbortSignal, recorder: DialRecorder, onBridge?: AnswerOnBridge): Promise<DialReport> {
  const { ctx } = rt;
  const ringback = new AbortController();
  // The caller hears ringback until the bridge — while the lines ring and while a whisper
  // runs on the one that answered (Twilio's `ringTone`). A courtesy: if it cannot play (the
  // caller's leg just went), the Dial goes on.
  const ringbackPlayed = rt.audio.ringback(parent, ringback.signal).catch(() => undefined);
  const children: { call: Call; endpoint: Endpoint | string; noun: DialEndpointNoun; ringing: AbortController }[] = [];
  for (const noun of verb.endpoints) {
    const endpoint = endpointOf(noun);
    const to = noun.noun === 'Sip' ? noun.uri : noun.noun === 'Number' ? noun.number : `client:${noun.identity}`;
    const call: Call = { ...childCall(parent, noun, to, verb, ctx.clock.now()), nodeId: ctx.node.id };
    await ctx.store.insertCall(call);
    children.push({ call, endpoint, noun, ringing: new AbortController() });
  }
  const cancelAll = (): void => children.forEach((c) => c.ringing.abort());
  signal.addEventListener('abort', cancelAll, { once: true });

  let winner: { index: number; leg: RemoteLeg } | undefined;
  const results = await Promise.all(
    children.map(async (child, index): Promise<DialResult> => {
      const current = { call: child.call };
      const move = async (status: CallStatus, detail?: ProgressDetail): Promise<void> => {
        current.call = await rt.status.move(current.call, status, detail);
      };
      rt.notifier.callProgress(child.call, 'initiated');
      if (typeof child.endpoint === 'string') {
        rt.logger.warn({ callSid: child.call.sid, parentCallSid: parent.sid }, `<Dial>: ${child.endpoint}`);
        await move('failed');
        return { outcome: 'failed' };
      }
      const auth = child.noun.noun === 'Sip' && child.noun.username && child.noun.password !== undefined ? { username: child.noun.username, password: child.noun.password } : undefined;
      const parameters = child.noun.noun === 'Client' && child.noun.parameters.length > 0 ? Object.fromEntries(child.noun.parameters.map((p) => [p.name, p.value])) : undefined;
      const result = await rt.dialer.dial(child.endpoint, {
        callSid: child.call.sid,
        accountSid: child.call.accountSid,
        from: child.call.from,
        timeoutSeconds: verb.timeout,
        signal: child.ringing.signal,
        onRinging: () => void move('ringing').catch(() => undefined),
        ...(auth ? { sipAuth: auth } : {}),
        ...(parameters ? { clientParameters: parameters } : {}),
      });
      if (result.outcome === 'answered' && winner === undefined && !signal.aborted) {
        winner = { index, leg: result.leg };
        children.forEach((c, i) => i !== index && c.ringing.abort());
        await move('in-progress');
        children[index]!.call = current.call;
        return result;
      }
      if (result.outcome === 'answered') result.leg.hangup(); // a second answer, or the caller left: too late
      await move(result.outcome === 'answered' ? 'canceled' : result.outcome, sipDetail(result.sipResponseCode));
      return result;
    }),
  );
  signal.removeEventListener('abort', cancelAll);
  const stopRingback = async (): Promise<void> => {
    ringback.abort();
    await ringbackPlayed; // stopped before the caller's leg joins the bridge
  };
  if (!winner) {
    await stopRingback();
    const status = unanswered(results, signal.aborted);
    onBridge?.notAnswered(status);
    return notBridged(status, children[0]?.call);
  }

  const child = children[winner.index]!;
  const answeredBy = sipDetail(winner.leg.sipResponseCode);
  await recorder.start(); // record-from-answer
  const through = await beforeBridge(rt, child.call, child.noun, winner.leg, signal);
  await stopRingback();
  if (through !== 'bridge') {
    // Declined by its whisper, or it hung up during it: answered, never bridged (Twilio's
    // DialBridged=false); a caller still unanswered (answerOnBridge) is told no-answer.
    winner.leg.hangup();
    const ended = await rt.status.move(child.call, 'completed', answeredBy);
    if (signal.aborted) return notBridged('canceled', ended);
    onBridge?.notAnswered('no-answer');
    return { status: 'completed', leg: { callSid: ended.sid, durationSeconds: ended.duration ?? 0, bridged: false } };
  }
  if (onBridge && !(await onBridge.answer())) {
    winner.leg.hangup();
    await rt.status.move(child.call, 'completed', answeredBy);
    return notBridged('canceled', child.call);
  }
  const legs = [parent.sid, child.call.sid];
  // Whatever happens on the bridge (its join failing included), the dialled leg is hung up
  // and its call completed, and the caller's leg is taken back out.
  const limit = new AbortController();
  const star = verb.hangupOnStar ? listenForStar(rt.keypad, parent.sid) : undefined;
  let ended = child.call;
  try {
    await rt.bridge.join(`bridge:${parent.sid}`, legs);
    const over = AbortSignal.any([signal, limit.signal, ...(star ? [star.signal] : [])]);
    await Promise.race([winner.leg.hungUp, sleep(verb.timeLimit * 1000, over)]);
  } catch (error) {
    rt.logger.warn({ err: error, callSid: parent.sid, dialCallSid: child.call.sid }, '<Dial>: the bridge failed; the dialled line is hung up');
    return { status: 'failed', leg: { callSid: child.call.sid, durationSeconds: 0, bridged: false } };
  } finally {
    star?.stop();
    limit.abort();
    await rt.bridge.leave(legs).catch(() => undefined); // logged by the media side if it matters
    winner.leg.hangup();
    ended = await rt.status.move(child.call, 'completed', answeredBy);
  }
  // DialCallDuration is the dialled call's duration (Twilio: "the duration in seconds of the
  // dialed call"), the same figure its Call resource shows.
  return { status: 'completed', leg: { callSid: child.call.sid, durationSeconds: ended.duration ?? 0, bridged: true } };
}

/**
 * What happens on the answered line before the bridge: its `sendDigits` (`<Number>`, an
 * extension to reach), then its whisper (`url`). `hangup` when the whisper declined, or either
 * side hung up meanwhile.
 */
async function beforeBridge(rt: CallRuntime, call: Call, noun: DialEndpointNoun, leg: RemoteLeg, signal: AbortSignal): Promise<WhisperOutcome> {
  if (noun.url === undefined && (noun.noun !== 'Number' || noun.sendDigits === undefined)) return 'bridge';
  const calleeGone = new AbortController();
  void leg.hungUp.then(() => calleeGone.abort());
  const during = AbortSignal.any([signal, calleeGone.signal]);
  if (noun.noun === 'Number' && noun.sendDigits !== undefined) await rt.keypad.send(call.sid, noun.sendDigits, during);
  if (noun.url !== undefined && !during.aborted) return runWhisper(rt, call, noun.url, noun.method, during);
  return during.aborted ? 'hangup' : 'bridge';
}
