/**
 * The call engine's webhooks in Twilio's spelling: the parameters of a TwiML request and of a
 * call status callback (https://www.twilio.com/docs/voice/twiml#request-parameters,
 * https://www.twilio.com/docs/voice/api/call-resource#statuscallback), signed with the auth
 * token of the call's account.
 */
import type { Call, CallProgressEvent } from '../domain/call.js';
import type { CallNotifier, TwimlRequest, TwimlSource } from '../domain/call-ports.js';
import type { CallbackQueue } from './callback-queue.js';
import type { WebhookClient } from './webhook-client.js';

/** The auth token of an account, to sign its webhooks. */
export type TokenLookup = (accountSid: string) => Promise<string>;

const API_VERSION = '2010-04-01';

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

export class CallWebhooks implements TwimlSource, CallNotifier {
  private readonly sequence = new Map<string, number>();
  /** Per call, the last callback still waiting for its account's token: keeps callbacks in order. */
  private readonly ordering = new Map<string, Promise<void>>();

  constructor(
    private readonly client: WebhookClient,
    private readonly queue: CallbackQueue,
    private readonly tokenOf: TokenLookup,
    /** Rejects a fetched document that is not valid TwiML, so that the fallback URL is tried. */
    private readonly validateTwiml: (twiml: string) => void,
  ) {}

  async fetch(request: TwimlRequest): Promise<{ twiml: string; url: string }> {
    const params = callParams(request.call);
    if (request.dial) {
      params.DialCallStatus = request.dial.status;
      params.DialCallDuration = String(request.dial.durationSeconds);
    }
    const result = await this.client.fetchTwiml({
      url: request.url,
      method: request.method,
      ...(request.fallbackUrl ? { fallbackUrl: request.fallbackUrl, fallbackMethod: request.fallbackMethod ?? 'POST' } : {}),
      params,
      authToken: await this.tokenOf(request.call.accountSid),
      validate: this.validateTwiml,
    });
    return { twiml: result.twiml, url: result.url };
  }

  callProgress(call: Call, event: CallProgressEvent): void {
    if (!call.statusCallback || !call.statusCallbackEvents.includes(event)) return;
    const sequenceNumber = this.sequence.get(call.sid) ?? 0;
    this.sequence.set(call.sid, sequenceNumber + 1);
    if (event === 'completed') this.sequence.delete(call.sid);
    const params: Record<string, string> = {
      ...callParams(call),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(sequenceNumber),
      Timestamp: new Date(call.dateUpdated).toUTCString().replace('GMT', '+0000'),
    };
    if (event === 'completed') {
      params.CallDuration = String(call.duration ?? 0);
      params.Duration = String(Math.ceil((call.duration ?? 0) / 60));
    }
    const { statusCallback, statusCallbackMethod } = call;
    const previous = this.ordering.get(call.sid) ?? Promise.resolve();
    const queued = previous
      .then(() => this.tokenOf(call.accountSid))
      .then((authToken) => this.queue.enqueue(call.sid, { url: statusCallback, method: statusCallbackMethod, params, authToken }))
      .catch(() => undefined);
    this.ordering.set(call.sid, queued);
    void queued.then(() => {
      if (this.ordering.get(call.sid) === queued) this.ordering.delete(call.sid);
    });
  }
}
