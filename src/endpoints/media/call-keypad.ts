/**
 * The Keypad port on the media plane: the keys a call's far end presses reach the listeners of
 * that call (call-listeners.ts), and keys sent to a call go
 * out on its media leg — RFC 4733 where the far end negotiated telephone-event, in-band tones
 * otherwise (the media plane decides, see media/protocol.ts `sendDigits`).
 */
import type { Keypad } from '../../domain/call-ports.js';
import { CallListeners } from './call-listeners.js';
import type { MediaPlane } from './media-plane.js';

export class CallKeypad implements Keypad {
  private readonly listeners = new CallListeners<string>();

  constructor(private readonly plane: MediaPlane) {
    plane.onDigit((callSid, key) => this.listeners.tell(callSid, key));
  }

  listen(callSid: string, onKey: (key: string) => void): () => void {
    return this.listeners.listen(callSid, onKey);
  }

  async send(callSid: string, digits: string, signal: AbortSignal): Promise<boolean> {
    const leg = this.plane.leg(callSid);
    if (!leg || signal.aborted) return false;
    return leg.sendDigits(digits, signal);
  }
}
