/**
 * The far end of an answered SIP call, inbound or outbound, as the call engine sees it
 * (RemoteLeg): it hangs up by BYE (RFC 3261 §15), or Conclave does (BYE, and its media leg
 * closes); RTP that stops for the configured time ends it too, with a BYE.
 */
import type { RemoteLeg } from '../../domain/call-ports.js';
import type { SipCall } from '../../sip/ua/call.js';
import type { MediaLeg } from '../media/media-leg.js';

export function remoteLegOf(call: SipCall, leg: MediaLeg): RemoteLeg {
  let byUs = false;
  const byThem = new Promise<void>((resolve) => {
    if (call.ended) resolve();
    call.on('ended', (e) => {
      if (e.by === 'remote') resolve();
    });
  });
  return {
    hungUp: Promise.race([byThem, leg.ended.then((why) => call.hangup(why))]).then(() => (byUs ? new Promise<void>(() => {}) : undefined)),
    hangup: () => {
      byUs = true;
      call.hangup('hangup');
      void leg.close();
    },
    sipResponseCode: 200,
  };
}

