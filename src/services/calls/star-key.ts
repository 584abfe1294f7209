/**
 * `<Dial hangupOnStar="true">`: the caller leaves the conference or ends the bridge by pressing
 * `*` (https://www.twilio.com/docs/voice/twiml/dial#hangupOnStar). The signal aborts with
 * `left-on-star`, the reason its participant leaves with.
 */
import type { Keypad } from '../../domain/call-ports.js';
import type { CallInterruption } from './conference-leg.js';

export interface StarKey {
  /** Aborts (reason `left-on-star`) when the caller presses `*`. */
  readonly signal: AbortSignal;
  /** Stops listening; idempotent. */
  stop(): void;
}

export function listenForStar(keypad: Keypad, callSid: string): StarKey {
  const pressed = new AbortController();
  const stop = keypad.listen(callSid, (key) => {
    if (key === '*') pressed.abort('left-on-star' satisfies CallInterruption);
  });
  return { signal: pressed.signal, stop };
}
