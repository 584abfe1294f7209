/**
 * Rings `client:<identity>` (Calls.create To=client:alice, Create Participant, `<Dial><Client>`):
 * every browser session of that identity in the call's account whose token allows incoming
 * calls gets `{ type: 'incoming', callSid, from, to, accountSid, params, sdp }` with the same
 * offer; the first to `accept` (with its SDP answer) is the call, the others get `cancel`, as
 * Twilio's Voice SDK Devices do (https://www.twilio.com/docs/voice/twiml/client: "The first
 * client to accept the incoming connection is connected to the call and the other connection
 * attempts are canceled"). `params` are the `<Client>`'s `<Parameter>`s, or the query of a
 * `client:alice?ticket=42` To (Twilio's custom parameters on Calls.create), which the browser
 * reads as the call's customParameters.
 *
 * Nobody to ring: no-answer at once, as for a SIP user with no registration. Every session
 * rejecting: busy (a declined call). The call's timeout, or the caller giving up: `cancel` to
 * each, no-answer or canceled.
 */
import type { DialOptions, DialResult } from '../../domain/call-ports.js';
import type { BrowserMedia } from './browser-media.js';
import { browserRemoteLeg, type KeyPresses } from './browser-remote-leg.js';
import type { ClientDirectory } from './client-directory.js';
import type { ClientMessage } from './client-protocol.js';
import type { ClientSession, SessionCall, SessionLogger } from './client-session.js';

/** `alice?ticket=42&x=y` → alice and its parameters. */
export function clientAddress(identity: string): { identity: string; params: Record<string, string> } {
  const query = identity.indexOf('?');
  if (query === -1) return { identity, params: {} };
  return { identity: identity.slice(0, query), params: Object.fromEntries(new URLSearchParams(identity.slice(query + 1))) };
}

type Answer = { session: ClientSession; sdp: string };

export class ClientDialer {
  constructor(
    private readonly directory: ClientDirectory<ClientSession>,
    private readonly media: () => BrowserMedia | undefined,
    private readonly pressed: KeyPresses,
    private readonly logger: SessionLogger,
  ) {}

  async dial(address: string, options: DialOptions): Promise<DialResult> {
    const { identity, params } = clientAddress(address);
    const { callSid, accountSid } = options;
    const sessions = this.directory.ringable(accountSid, identity);
    if (sessions.length === 0) {
      this.logger.info({ callSid, identity }, `client:${identity} is not signed in (no browser registered with incoming calls allowed): no-answer`);
      return { outcome: 'no-answer' };
    }
    const media = this.media();
    if (!media) {
      this.logger.warn({ callSid, identity }, 'client: calls need WebRTC media, which this server does not have');
      return { outcome: 'failed' };
    }
    if (options.signal.aborted) return { outcome: 'canceled' };
    let offered: Awaited<ReturnType<BrowserMedia['offer']>>;
    try {
      offered = await media.offer(callSid, { unanswered: true });
    } catch (error) {
      this.logger.warn({ err: error, callSid }, `could not open WebRTC media to ring client:${identity}`);
      return { outcome: 'failed' };
    }
    const incoming = { type: 'incoming', callSid, from: options.from, to: `client:${identity}`, accountSid, params: { ...params, ...options.clientParameters }, sdp: offered.offerSdp };
    const answer = await this.ring(sessions, incoming, options);
    if (answer === 'no-answer' || answer === 'busy' || answer === 'canceled') {
      await offered.leg.close();
      return { outcome: answer };
    }
    // Its messages (a hang-up already) are the answered call's from now on.
    const remote = browserRemoteLeg(answer.session, callSid, offered.leg, this.pressed);
    try {
      await offered.accept(answer.sdp);
      await offered.leg.answered();
    } catch (error) {
      this.logger.info({ err: error, callSid, identity }, 'the browser accepted with an SDP answer that cannot be used; the call fails');
      remote.hangup();
      return { outcome: 'failed' };
    }
    return { outcome: 'answered', leg: remote };
  }

  /** Rings every session until one accepts, all decline or go, the timeout passes or the caller gives up. */
  private ring(sessions: ClientSession[], incoming: Record<string, unknown> & { callSid: string }, options: DialOptions): Promise<Answer | 'no-answer' | 'busy' | 'canceled'> {
    const { callSid } = incoming;
    return new Promise((resolve) => {
      const ringing = new Map<ClientSession, SessionCall>();
      let declined = false;
      const finish = (outcome: Answer | 'no-answer' | 'busy' | 'canceled'): void => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
        for (const [session, branch] of ringing) {
          session.detach(callSid, branch);
          if (typeof outcome === 'string' || outcome.session !== session) session.send({ type: 'cancel', callSid });
        }
        ringing.clear();
        resolve(outcome);
      };
      const branchEnded = (session: ClientSession, branch: SessionCall): void => {
        session.detach(callSid, branch);
        ringing.delete(session);
        if (ringing.size === 0) finish(declined ? 'busy' : 'no-answer');
      };
      const onAbort = (): void => finish('canceled');
      const timer = setTimeout(() => finish('no-answer'), options.timeoutSeconds * 1000);
      options.signal.addEventListener('abort', onAbort, { once: true });
      for (const session of sessions) {
        const branch: SessionCall = {
          message: (message: Extract<ClientMessage, { callSid: string }>) => {
            if (message.type === 'accept') finish({ session, sdp: message.sdp });
            else if (message.type === 'reject' || message.type === 'hangup') {
              declined = true;
              branchEnded(session, branch);
            }
          },
          sessionClosed: () => branchEnded(session, branch),
        };
        ringing.set(session, branch);
        session.attach(callSid, branch);
        session.send(incoming);
      }
      options.onRinging();
    });
  }
}
