/**
 * The Keypad port on the media plane: the keys a call's far end presses reach the listeners of
 * that call (one map lookup per key, whatever the number of calls), and keys sent to a call go
 * out on its media leg — RFC 4733 where the far end negotiated telephone-event, in-band tones
 * otherwise (the media plane decides, see media/protocol.ts `sendDigits`).
 */
import type { Keypad } from '../../domain/call-ports.js';
import type { MediaPlane } from './media-plane.js';

export class CallKeypad implements Keypad {
  private readonly listeners = new Map<string, Set<(key: string) => void>>();

  constructor(private readonly plane: MediaPlane) {
    plane.onDigit((callSid, key) => {
      const listening = this.listeners.get(callSid);
      if (listening) for (const listener of [...listening]) listener(key);
    });
  }

  listen(callSid: string, onKey: (key: string) => void): () => void {
    let listening = this.listeners.get(callSid);
    if (!listening) this.listeners.set(callSid, (listening = new Set()));
    const own = (key: string): void => onKey(key);
    listening.add(own);
    return () => {
      listening.delete(own);
      if (listening.size === 0 && this.listeners.get(callSid) === listening) this.listeners.delete(callSid);
    };
  }

  async send(callSid: string, digits: string, signal: AbortSignal): Promise<boolean> {
    const leg = this.plane.leg(callSid);
    if (!leg || signal.aborted) return false;
    return leg.sendDigits(digits, signal);
  }
}
