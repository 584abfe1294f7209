/**
 * What the client endpoints need of the media plane: a WebRTC leg for a call, answering the
 * browser's offer (a call it places) or offering to it (a call that rings it). app.ts binds it
 * to answerWebRtc/offerWebRtc (endpoints/webrtc/webrtc-media.ts), which open the call's media
 * leg, named by the CallSid, and write our SDP.
 */
import type { MediaLeg } from '../media/media-leg.js';

export interface BrowserMedia {
  /** Our answer to the browser's offer, and the call's leg; throws when the offer is unusable. */
  answer(callSid: string, offerSdp: string, options: { unanswered: boolean }): Promise<{ leg: MediaLeg; answerSdp: string }>;
  /** Our offer to the browser, and the leg; `accept` takes the browser's answer. */
  offer(callSid: string, options: { unanswered: boolean }): Promise<{ leg: MediaLeg; offerSdp: string; accept(answerSdp: string): Promise<unknown> }>;
}
