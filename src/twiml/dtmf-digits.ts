/**
 * The keys TwiML may send (`<Play digits>`, `<Number sendDigits>`, Calls.create `SendDigits`):
 * 0–9, `*`, `#`, A–D, and the pauses `w` (half a second) and `W` (one second), as Twilio's
 * SendDigits describes them (twilio-oai `CreateCallRequest.SendDigits`).
 */
const SENDABLE = /^[0-9A-D*#wW]+$/;

/** Whether `digits` is a non-empty string of sendable keys and pauses. */
export function isSendableDigits(digits: string): boolean {
  return SENDABLE.test(digits);
}

export const SENDABLE_DIGITS_RULE = 'it may hold only 0-9, *, #, A-D, w (half a second) and W (one second)';
