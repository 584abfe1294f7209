/**
 * Where a call goes: the `To`/`From` of a call, parsed. Conclave dials simulated endpoints
 * (`sim:`), SIP URIs (`sip:`, once the SIP plane exists) and numbers it owns; there is no
 * carrier behind other numbers.
 *
 * A simulated endpoint is `sim:<name>` followed by optional `;param` parts, like SIP URI
 * parameters (RFC 3261 §19.1.1):
 * - `ring=N`     rings N seconds before answering (default 0: answers at once);
 * - `busy`       answers busy; `no-answer` rings until the call's timeout; `fail` fails at once;
 * - `hangup=N`   hangs up N seconds after answering (default: stays until Conclave hangs up);
 * - `tone=HZ`    speaks a sine of HZ (20–3900) all the time it is answered;
 * - `play=URL`   speaks a WAV file instead, looped (percent-encode `;` in the URL);
 * - `record`     records what it hears, fetchable as a WAV (`…/Calls/{CallSid}/SimulatedAudio.wav`);
 *                keys sent to it (`<Play digits>`, `sendDigits`) are in that WAV as DTMF tones;
 * - `dtmf=KEYS`  presses KEYS once answered (0–9, `*`, `#`, A–D; `w` waits ½ s, `W` 1 s), as a
 *                phone sending RFC 4733 events would: heard by Conclave, never by the others;
 *                `#` may be written `%23`;
 * - `dtmfAt=N`   presses them N seconds after the answer (default 1).
 * Without `tone` or `play` the endpoint is silent.
 */

export type SimOutcome = 'answer' | 'busy' | 'no-answer' | 'fail';

export interface SimEndpoint {
  kind: 'sim';
  name: string;
  ringSeconds: number;
  outcome: SimOutcome;
  hangupAfterSeconds: number | null;
  /** What it says once answered; null = silence. */
  voice: { toneHz: number } | { playUrl: string } | null;
  /** Whether it records what it hears. */
  record: boolean;
  /** Keys it presses once answered, and when (seconds after the answer); null = none. */
  keys: { digits: string; afterSeconds: number } | null;
  params: Record<string, string>;
}

export type Endpoint =
  | SimEndpoint
  | { kind: 'sip'; uri: string }
  | { kind: 'number'; number: string }
  | { kind: 'client'; identity: string };

const E164 = /^\+[1-9]\d{1,14}$/;
const NAME = /^[A-Za-z0-9._~-]{1,64}$/;
const MAX_SECONDS = 3600;

/** Parses an endpoint, or returns a message saying what is wrong with it. */
export function parseEndpoint(value: string): Endpoint | string {
  const trimmed = value.trim();
  if (trimmed.startsWith('sim:')) return parseSim(trimmed.slice(4));
  if (/^sips?:/i.test(trimmed)) return { kind: 'sip', uri: trimmed };
  if (trimmed.startsWith('client:')) return { kind: 'client', identity: trimmed.slice(7) };
  if (E164.test(trimmed)) return { kind: 'number', number: trimmed };
  return `"${value}" is not an endpoint Conclave knows: use sim:<name>, sip:<uri>, or an E.164 number such as +15005550006`;
}

function parseSim(rest: string): SimEndpoint | string {
  const [name = '', ...parts] = rest.split(';');
  if (!NAME.test(name)) return `sim:${rest} has no valid name: use letters, digits, '.', '_', '~' or '-', up to 64`;
  const params: Record<string, string> = {};
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    params[eq === -1 ? part : part.slice(0, eq)] = eq === -1 ? '' : part.slice(eq + 1);
  }
  const outcomes = (['busy', 'no-answer', 'fail'] as const).filter((o) => o in params);
  if (outcomes.length > 1) return `sim:${rest} asks for more than one of busy, no-answer and fail`;
  const ring = seconds(params.ring, 'ring');
  if (typeof ring === 'string') return ring;
  const hangup = seconds(params.hangup, 'hangup');
  if (typeof hangup === 'string') return hangup;
  const voice = simVoice(params);
  if (typeof voice === 'string') return voice;
  const keys = simKeys(params);
  if (typeof keys === 'string') return keys;
  return {
    kind: 'sim',
    name,
    ringSeconds: ring ?? 0,
    outcome: outcomes[0] ?? 'answer',
    hangupAfterSeconds: hangup ?? null,
    voice,
    record: 'record' in params,
    keys,
    params,
  };
}

/** The keys a phone can press, with Twilio's SendDigits pauses. */
const KEYS = /^[0-9A-D*#wW]+$/;
const DEFAULT_KEYS_AFTER_SECONDS = 1;

function simKeys(params: Record<string, string>): SimEndpoint['keys'] | string {
  if (params.dtmf === undefined) {
    return params.dtmfAt === undefined ? null : 'sim: dtmfAt= needs dtmf=<keys>';
  }
  let digits: string;
  try {
    digits = decodeURIComponent(params.dtmf);
  } catch {
    return `sim: dtmf=${params.dtmf} is not valid percent-encoding`;
  }
  if (!KEYS.test(digits)) return `sim: dtmf=${params.dtmf} may hold only 0-9, *, #, A-D, w (half a second) and W (one second)`;
  const after = seconds(params.dtmfAt, 'dtmfAt');
  if (typeof after === 'string') return after;
  return { digits, afterSeconds: after ?? DEFAULT_KEYS_AFTER_SECONDS };
}

function simVoice(params: Record<string, string>): SimEndpoint['voice'] | string {
  if (params.tone !== undefined && params.play !== undefined) return 'sim: give either tone= or play=, not both';
  if (params.tone !== undefined) {
    const hz = Number(params.tone);
    // G.711 carries up to 4 kHz; keep a margin below Nyquist.
    if (params.tone === '' || !Number.isFinite(hz) || hz < 20 || hz > 3900) return `sim: tone=${params.tone} must be a frequency from 20 to 3900 Hz`;
    return { toneHz: hz };
  }
  if (params.play !== undefined) {
    let url: string;
    try {
      url = decodeURIComponent(params.play);
    } catch {
      return `sim: play=${params.play} is not a valid percent-encoded URL`;
    }
    if (!/^https?:\/\/[^\s]+$/i.test(url)) return `sim: play=${params.play} must be an http(s) URL of a WAV file`;
    return { playUrl: url };
  }
  return null;
}

function seconds(value: string | undefined, name: string): number | undefined | string {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n < 0 || n > MAX_SECONDS) return `sim: ${name}=${value} must be a number of seconds from 0 to ${MAX_SECONDS}`;
  return n;
}
