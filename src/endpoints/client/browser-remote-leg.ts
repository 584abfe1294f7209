/**
 * The far end of an answered browser call, as the call engine sees it (RemoteLeg): the browser
 * hangs up (`hangup`), or its WebSocket closes, or its media leg ends (ICE/DTLS failed, no RTP)
 * — or Conclave hangs up: the browser is told `{ type: 'hangup', callSid, reason }` and the leg
 * closes. Keys the browser sends as `digits` reach the call as if pressed on the far end.
 */
import type { RemoteLeg } from '../../domain/call-ports.js';
import type { MediaLeg } from '../media/media-leg.js';
import type { ClientMessage } from './client-protocol.js';
import type { ClientSession, SessionCall } from './client-session.js';

/** Tells the call a key its far end pressed (as RFC 4733 events would). */
export type KeyPresses = (callSid: string, key: string) => void;

export function browserRemoteLeg(session: ClientSession, callSid: string, leg: MediaLeg, pressed: KeyPresses): RemoteLeg {
  let byUs = false;
  let byThem: () => void = () => {};
  const gone = new Promise<void>((resolve) => (byThem = resolve));
  const link: SessionCall = {
    message(message: Extract<ClientMessage, { callSid: string }>) {
      if (message.type === 'hangup') byThem();
      else if (message.type === 'digits') for (const key of message.digits) if (key !== 'w') pressed(callSid, key);
    },
    sessionClosed: () => byThem(),
  };
  session.attach(callSid, link);
  const ended = Promise.race([gone, leg.ended.then((why) => session.send({ type: 'hangup', callSid, reason: why }))]).then(() => {
    session.detach(callSid, link);
    void leg.close();
  });
  return {
    // Once Conclave hung up, the far end's end is not news to the engine.
    hungUp: ended.then(() => (byUs ? new Promise<void>(() => {}) : undefined)),
    hangup: () => {
      if (byUs) return;
      byUs = true;
      session.send({ type: 'hangup', callSid, reason: 'completed' });
      byThem();
    },
  };
}
