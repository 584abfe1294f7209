/**
 * The call engine's webhooks in Twilio's spelling: the parameters of a TwiML request and of a
 * call status callback (https://www.twilio.com/docs/voice/twiml#request-parameters,
 * https://www.twilio.com/docs/voice/api/call-resource#statuscallback), signed with the auth
 * token of the call's account.
 */
import type { Call, CallProgressEvent } from '../domain/call.js';
import type { CallNotifier, DocumentFetcher, ProgressDetail, TwimlRequest, TwimlSource } from '../domain/call-ports.js';
import type { HttpMethod } from '../domain/call.js';
import { recordingUrl } from './recording-url.js';
import type { SignedCallbacks, TokenLookup } from './signed-callbacks.js';
import type { WebhookClient } from './webhook-client.js';

const API_VERSION = '2010-04-01';

/** `Thu, 26 Nov 2026 05:00:55 +0000`, as Twilio writes `Timestamp`. */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

export function callParams(call: Call): Record<string, string> {
  return {
    AccountSid: call.accountSid,
    ApiVersion: API_VERSION,
    CallSid: call.sid,
    CallStatus: call.status,
    Called: call.to,
    Caller: call.from,
    Direction: call.direction,
    From: call.from,
    To: call.to,
    ...(call.parentCallSid ? { ParentCallSid: call.parentCallSid } : {}),
  };
}

export class CallWebhooks implements TwimlSource, CallNotifier, DocumentFetcher {
  private readonly sequence = new Map<string, number>();

  constructor(
    private readonly client: WebhookClient,
    private readonly callbacks: SignedCallbacks,
    private readonly tokenOf: TokenLookup,
    /** Rejects a fetched document that is not valid TwiML, so that the fallback URL is tried. */
    private readonly validateTwiml: (twiml: string) => void,
    /** The API's base URL as callers reach it, for `RecordingUrl`. */
    private readonly baseUrl: () => string = () => '',
  ) {}

  async fetch(request: TwimlRequest): Promise<{ twiml: string; url: string }> {
    const params = { ...request.params, ...callParams(request.call) };
    if (request.dial) {
      params.DialCallStatus = request.dial.status;
      const { leg } = request.dial;
      if (leg) {
        params.DialCallSid = leg.callSid;
        params.DialCallDuration = String(leg.durationSeconds);
        params.DialBridged = String(leg.bridged);
      }
      const { recording } = request.dial;
      if (recording) {
        // As Twilio's <Dial record> action request (https://www.twilio.com/docs/voice/twiml/dial#record).
        params.RecordingUrl = recordingUrl(this.baseUrl(), recording);
        params.RecordingSid = recording.sid;
        params.RecordingDuration = String(recording.duration ?? 0);
      }
    }
    if (request.record) {
      // As Twilio's <Record> action request (https://www.twilio.com/docs/voice/twiml/record#action).
      const { recording } = request.record;
      params.RecordingUrl = recordingUrl(this.baseUrl(), recording);
      params.RecordingSid = recording.sid;
      params.RecordingDuration = String(recording.duration ?? 0);
      params.Digits = request.record.digits;
    }
    if (request.gather) {
      // As Twilio's Gather requests carry them: the keys, the finish key, and `msg`.
      params.Digits = request.gather.digits;
      params.FinishedOnKey = request.gather.finishedOnKey;
      params.msg = 'Gather End';
    }
    const result = await this.client.fetchTwiml({
      url: request.url,
      method: request.method,
      ...(request.fallbackUrl ? { fallbackUrl: request.fallbackUrl, fallbackMethod: request.fallbackMethod ?? 'POST' } : {}),
      params,
      authToken: await this.tokenOf(request.call.accountSid),
      validate: this.validateTwiml,
      // A verb's `action` (Dial, Gather, Record) is told what it did; a call's Url and a <Redirect> are not.
      purpose: request.dial || request.record || request.gather ? 'action' : 'twiml',
      ...(request.signal ? { signal: request.signal } : {}),
    });
    return { twiml: result.twiml, url: result.url };
  }

  /** An audio file or TwiML for hold, wait or announcement audio. */
  async fetchDocument(request: { url: string; method: HttpMethod; accountSid: string; params: Record<string, string>; signal?: AbortSignal }): Promise<{ contentType: string; body: string; url: string }> {
    const response = await this.client.request({
      url: request.url,
      method: request.method,
      params: request.params,
      authToken: await this.tokenOf(request.accountSid),
      purpose: 'document',
      ...(request.signal ? { signal: request.signal } : {}),
    });
    return { contentType: response.contentType, body: response.body.toString('utf8'), url: request.url };
  }

  callProgress(call: Call, event: CallProgressEvent, detail: ProgressDetail = {}): void {
    if (!call.statusCallback || !call.statusCallbackEvents.includes(event)) return;
    const sequenceNumber = this.sequence.get(call.sid) ?? 0;
    this.sequence.set(call.sid, sequenceNumber + 1);
    if (event === 'completed') this.sequence.delete(call.sid);
    const params: Record<string, string> = {
      ...callProgressParams(call, event, detail),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(sequenceNumber),
    };
    this.callbacks.send(call.sid, call.accountSid, call.statusCallback, call.statusCallbackMethod, params);
  }
}

/**
 * What a call status callback says of a progress event (the live event stream sends the same,
 * without the callback's own `CallbackSource` and per-callback `SequenceNumber`).
 */
export function callProgressParams(call: Call, event: CallProgressEvent, detail: ProgressDetail = {}): Record<string, string> {
  const params: Record<string, string> = { ...callParams(call), Timestamp: rfc2822(call.dateUpdated) };
  if (event === 'completed') {
    params.CallDuration = String(call.duration ?? 0);
    params.Duration = String(Math.ceil((call.duration ?? 0) / 60));
    if (detail.sipResponseCode !== undefined) params.SipResponseCode = String(detail.sipResponseCode);
  }
  return params;
}
