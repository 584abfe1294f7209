/**
 * Dialling a `sip:` endpoint (RFC 3261 §13.2): an RTP leg is opened first so the offer can name
 * its port (its RTP timeout held until the answer, however long the phone rings); the INVITE
 * rings until a 2xx (the leg learns the peer's address and codec from the answer), a failure, the call's `Timeout` (CANCEL, 408) or the REST API cancelling it.
 * Final statuses map to Twilio's call outcomes: 486/600 busy, 408/480/487 no-answer, other
 * failures `failed` (https://www.twilio.com/docs/voice/api/call-resource#call-status-values); the
 * deciding response's code goes with the outcome (Twilio's `SipResponseCode`).
 */
import type { DialOptions, DialResult } from '../../domain/call-ports.js';
import { writeOffer, TELEPHONE_EVENT_PT } from '../../sip/sdp/audio-session.js';
import type { SipCall } from '../../sip/ua/call.js';
import type { SipGateway } from './sip-gateway.js';
import { remoteLegOf } from './sip-remote-leg.js';

const BUSY = new Set([486, 600]);
const NO_ANSWER = new Set([408, 480, 487]);

/** A From URI for the caller ID: a sip: URI as given, otherwise its user part at our address. */
export function fromUri(from: string, host: string, port: number): string {
  if (/^sips?:/i.test(from)) return from;
  const user = from.replace(/^client:/, '').replace(/[^A-Za-z0-9+._~-]/g, '') || 'conclave';
  return `sip:${user}@${host}:${port}`;
}

export class SipOutbound {
  constructor(private readonly gateway: SipGateway) {}

  async dial(uri: string, options: DialOptions): Promise<DialResult> {
    const { gateway } = this;
    const { callSid, signal } = options;
    let opened: Awaited<ReturnType<SipGateway['openMedia']>>;
    try {
      opened = await gateway.openMedia(callSid, { codec: 'PCMU', telephoneEvent: TELEPHONE_EVENT_PT, unanswered: true });
    } catch {
      return { outcome: 'failed' }; // logged by the media plane (e.g. no RTP port free)
    }
    const { local: audio, leg } = opened;
    if (signal.aborted) {
      await leg.close();
      return { outcome: 'canceled' };
    }
    let call: SipCall;
    try {
      call = gateway.ua.invite({
        to: uri,
        from: fromUri(options.from, gateway.publicAddress, gateway.port),
        sdpOffer: writeOffer(audio),
        timeoutMs: options.timeoutSeconds * 1000,
        ...(options.sipAuth ? { auth: options.sipAuth } : {}),
      });
    } catch (error) {
      gateway.log.warn({ err: error, callSid, uri }, `SIP: cannot dial ${uri}: ${(error as Error).message}`);
      await leg.close();
      return { outcome: 'failed' };
    }
    // Cancelled (REST, shutdown): the call is over for Conclave at once. The user agent sends
    // the CANCEL when it may (after a provisional, RFC 3261 §9.1) and ends the INVITE itself.
    let cancelled = (): void => {};
    const cancel = (): void => {
      call.hangup('canceled');
      cancelled();
    };
    signal.addEventListener('abort', cancel, { once: true });
    let rang = false;
    call.on('provisional', (p) => {
      if (!rang && (p.status === 180 || p.status === 183)) {
        rang = true;
        options.onRinging();
      }
    });
    const outcome = await new Promise<DialResult>((resolve) => {
      // A CANCEL ends the INVITE with 487 Request Terminated (RFC 3261 §9.2).
      cancelled = () => resolve({ outcome: 'canceled', sipResponseCode: 487 });
      call.on('answered', ({ remoteAudio }) => {
        gateway.track(call, { leg, local: audio });
        const quietly = (what: string) => (error: unknown) => gateway.media.unlessGone(error, callSid, what);
        leg.setRemote({ address: remoteAudio.address, port: remoteAudio.port }, remoteAudio.codec, remoteAudio.telephoneEvent).catch(quietly('send to the answer'));
        leg.answered().catch(quietly('start its RTP timeout')); // its RTP timeout starts now
        resolve({ outcome: 'answered', leg: remoteLegOf(call, leg) });
      });
      call.on('failed', ({ status, reason }) => {
        gateway.log.info({ callSid, uri, status, reason }, `SIP: ${uri} answered ${status} ${reason}`);
        const sipResponseCode = status;
        if (signal.aborted) resolve({ outcome: 'canceled', sipResponseCode });
        else if (BUSY.has(status)) resolve({ outcome: 'busy', sipResponseCode });
        else if (NO_ANSWER.has(status)) resolve({ outcome: 'no-answer', sipResponseCode });
        else resolve({ outcome: 'failed', sipResponseCode });
      });
    });
    signal.removeEventListener('abort', cancel);
    if (outcome.outcome !== 'answered') await leg.close();
    return outcome;
  }
}
