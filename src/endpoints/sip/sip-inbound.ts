/**
 * An INVITE from a phone or trunk (RFC 3261 §13.3): the user part of its Request-URI names what
 * it calls — a number the account owns, with or without `+` — and the app's router creates the
 * inbound call, which rings (180) while its TwiML is fetched. The TwiML decides: answered (200
 * with our SDP answer and an RTP leg), or `<Reject>` (486 Busy Here for `busy`, 603 Decline
 * otherwise, as Twilio's SIP interface answers). Nothing to route to: 404. A CANCEL from the
 * caller before that abandons the call. `<Dial answerOnBridge>` first sends a 183 with the same
 * SDP answer and RTP leg (early media: the caller hears ringback), and answers on the bridge.
 */
import type { InboundLeg, Refusal, RemoteLeg } from '../../domain/call-ports.js';
import { writeAnswer, type LocalAudio } from '../../sip/sdp/audio-session.js';
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import type { InboundRouter, SipGateway } from './sip-gateway.js';
import { remoteLegOf } from './sip-remote-leg.js';

const REFUSAL_STATUS: Record<Refusal, number> = { busy: 486, 'no-answer': 603, failed: 500 };

export class SipInbound {
  constructor(
    private readonly gateway: SipGateway,
    private readonly route: InboundRouter,
  ) {}

  async receive(incoming: IncomingCall): Promise<void> {
    const user = incoming.request.uri.match(/^sips?:([^@;?]+)@/i)?.[1];
    const from = incoming.from?.uri ?? 'sip:anonymous@anonymous.invalid';
    if (!user) {
      incoming.reject(404, { reason: 'Not Found' });
      return;
    }
    const leg = this.inboundLeg(incoming);
    let routed: boolean;
    try {
      routed = await this.route({ user: unescapeUser(user), from, leg });
    } catch (error) {
      this.gateway.log.warn({ err: error, user, from }, 'SIP: could not route an inbound call');
      incoming.reject(500, { reason: 'Server Internal Error' });
      return;
    }
    if (!routed) {
      this.gateway.log.info({ user, from }, `SIP: nothing answers to ${user}`);
      incoming.reject(404, { reason: 'Not Found' });
    }
  }

  private inboundLeg(incoming: IncomingCall): InboundLeg {
    const { gateway } = this;
    const gone = (): Error => new Error('the caller hung up before the answer');
    // Our side of the SDP, made once: a 183's answer and the 200's must be the same (RFC 3264 §5).
    let media: Promise<{ local: LocalAudio; mediaGone: Promise<void>; sdp: string }> | undefined;
    let mediaSid = '';
    // A leg opened for early media is ours to close if the call is never answered.
    const closeEarlyMedia = (): void => {
      if (media) void media.then(() => gateway.media.closeLeg(mediaSid)).catch(() => undefined);
    };
    const abandoned = new Promise<void>((resolve) =>
      incoming.on('cancel', () => {
        closeEarlyMedia();
        resolve();
      }),
    );
    let early = false;
    const openMedia = (callSid: string): Promise<{ local: LocalAudio; mediaGone: Promise<void>; sdp: string }> => {
      mediaSid = callSid;
      media ??= (async () => {
        const offer = incoming.offer;
        const opened = await gateway.openMedia(callSid, {
          codec: offer.codec,
          telephoneEvent: offer.telephoneEvent,
          ...(offer.address !== '0.0.0.0' ? { remote: { address: offer.address, port: offer.port } } : {}),
          unanswered: early, // a phone in early media need not send RTP until the 200
        });
        return { ...opened, sdp: writeAnswer(opened.local, offer) };
      })();
      return media;
    };
    const stillThere = async (callSid: string): Promise<void> => {
      if (incoming.state === 'pending') return;
      if (media) await gateway.media.closeLeg(callSid);
      throw gone();
    };
    return {
      ring: () => incoming.ringing(),
      refuse: (why) => {
        incoming.reject(REFUSAL_STATUS[why]);
        closeEarlyMedia();
      },
      abandoned,
      earlyMedia: async (callSid: string): Promise<void> => {
        if (incoming.state !== 'pending') throw gone();
        early = true;
        const { sdp } = await openMedia(callSid);
        await stillThere(callSid);
        incoming.progress(sdp);
      },
      answer: async (callSid: string): Promise<RemoteLeg> => {
        if (incoming.state !== 'pending') throw gone();
        const { local, mediaGone, sdp } = await openMedia(callSid);
        await stillThere(callSid);
        const call = incoming.accept(sdp);
        if (early) void gateway.media.answered(callSid).catch(() => undefined);
        gateway.track(call, { callSid, local });
        return remoteLegOf(gateway, call, callSid, mediaGone);
      },
    };
  }
}

/** The user part of a URI with its %-escapes undone (RFC 3261 §19.1.2); a bad escape stays as written. */
function unescapeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
