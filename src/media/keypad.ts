/**
 * Keypad digits going out of a leg (`sendDigits`) or pressed by a simulated far end
 * (`pressKeys`): the alphabet, the timing, the in-band tones, and one job per request that a
 * leg runs frame by frame in the engine's tick (engine-room.ts).
 *
 * The alphabet is Twilio's SendDigits / `<Play digits>`: `0-9 * # A-D`, `w` = a 0.5 s pause,
 * `W` = a 1 s pause. Each digit is a 100 ms tone followed by a 100 ms gap: Asterisk's default
 * digit length (`AST_DEFAULT_EMULATE_DTMF_DURATION`, 100 ms) and well above what ITU-T Q.24
 * receivers must accept (40 ms of tone, 40 ms of pause), so any far end — a PBX menu, another
 * bridge, a phone — reads them, while "1234#" still goes out in a second.
 *
 * A job goes out one of three ways, chosen by the leg when the request arrives:
 * - `rfc4733`: an RTP leg whose peer negotiated telephone-event. The leg sends event packets
 *   instead of audio while a key is down (RFC 4733 §2.5.1.1: the same SSRC and sequence space,
 *   marker on the first packet, timestamp fixed at the event's start, the duration growing by
 *   160 each 20 ms), then the end packet (E bit) three times at the update interval
 *   (§2.5.1.4), each with its own sequence number; audio resumes after. Volume 10 (−10 dBm0,
 *   what the tones below carry too). The RTP clock runs on through the event, so the audio
 *   after it has the timestamp it would have had.
 * - `inband`: an RTP leg without telephone-event, or a sim leg: the ITU-T Q.23 frequency pair,
 *   laid over what the leg hears as a player is. The low tone at −10 dBm0, the high one at
 *   −8 dBm0: the 2 dB "pre-emphasis" that Q.23 senders use so the high group survives line
 *   loss, well inside a receiver's twist limits, and no clipping (peaks ≈ 16,000 of 32,767).
 * - `press`: a sim leg presses keys as a phone sending RFC 4733 would: the engine reports each
 *   digit (`dtmf`) when its key is released, nothing is heard.
 */
import { MediaError } from './media-error.js';

/** 20 ms frames of 160 samples at 8 kHz. */
export const KEY_FRAME = 160;
/** A key held 100 ms, then released for 100 ms before the next one. */
export const TONE_FRAMES = 5;
export const GAP_FRAMES = 5;
/** The end of an RFC 4733 event goes out three times (the first is the last tone frame). */
export const END_REPEATS = 3;
/** RFC 4733 §3.2 event codes 0–15, in code order. */
export const DIGITS = '0123456789*#ABCD';
/** `w` and `W`, in frames. */
const PAUSE_FRAMES: Readonly<Record<string, number>> = { w: 25, W: 50 };
/** RFC 4733 §2.3 volume: the power level of the tone, as −dBm0. */
export const EVENT_VOLUME = 10;

/** One step of a job: a digit (its event code) or a pause (code −1), and how many frames. */
export interface KeyStep {
  code: number;
  frames: number;
}

/** The steps for a digit string; anything outside the alphabet is `invalid`. */
export function keySteps(digits: string): KeyStep[] {
  const steps: KeyStep[] = [];
  for (const ch of digits) {
    const pause = PAUSE_FRAMES[ch];
    if (pause !== undefined) {
      steps.push({ code: -1, frames: pause });
      continue;
    }
    const code = DIGITS.indexOf(ch);
    if (ch.length !== 1 || code < 0) throw new MediaError('invalid', `${JSON.stringify(ch)} is not a keypad digit (0-9 * # A-D, w and W to pause)`);
    steps.push({ code, frames: TONE_FRAMES + GAP_FRAMES });
  }
  return steps;
}

/** ITU-T Q.23: the low (row) and high (column) frequency of each event code. */
export const LOW_HZ = [941, 697, 697, 697, 770, 770, 770, 852, 852, 852, 941, 941, 697, 770, 852, 941] as const;
export const HIGH_HZ = [1336, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1477, 1633, 1633, 1633, 1633] as const;

/** The peak of a 0 dBm0 sine in 16-bit PCM (G.711: +3.17 dBm0 is full scale). */
const DBM0_PEAK = 32768 * Math.pow(10, -3.17 / 20);
const LOW_PEAK = DBM0_PEAK * Math.pow(10, -10 / 20);
const HIGH_PEAK = DBM0_PEAK * Math.pow(10, -8 / 20);
/** 2 ms raised-cosine edges, so a tone starts and stops without a click spreading into other bands. */
const RAMP = 16;

let tones: Int16Array[] | null = null;

/** The 100 ms in-band tone of each event code, made once. */
export function digitTone(code: number): Int16Array {
  tones ??= Array.from({ length: DIGITS.length }, (_, c) => {
    const n = TONE_FRAMES * KEY_FRAME;
    const pcm = new Int16Array(n);
    const wl = (2 * Math.PI * LOW_HZ[c]!) / 8000;
    const wh = (2 * Math.PI * HIGH_HZ[c]!) / 8000;
    for (let i = 0; i < n; i++) {
      const edge = Math.min(i, n - 1 - i);
      const env = edge < RAMP ? 0.5 - 0.5 * Math.cos((Math.PI * edge) / RAMP) : 1;
      pcm[i] = Math.round(env * (LOW_PEAK * Math.sin(wl * i) + HIGH_PEAK * Math.sin(wh * i)));
    }
    return pcm;
  });
  return tones[code]!;
}

export type KeypadMode = 'rfc4733' | 'inband' | 'press';

/**
 * What a job does in the frame it just advanced to: nothing (a gap or a pause: the leg sends its
 * audio), lay `tone` over the leg's output, send an RFC 4733 packet (`code`, `duration`, `end`,
 * `marker`), or report that the simulated key `code` was released.
 */
export type KeyAction = 'none' | 'tone' | 'event' | 'released';

/** A job as plain data, to carry it to another media worker (leg-state.ts). */
export interface KeypadJobState {
  id: number;
  mode: KeypadMode;
  steps: KeyStep[];
  step: number;
  frame: number;
  eventStart: number;
  stopped: boolean;
}

/** One `sendDigits` or `pressKeys` request, run one frame per tick. */
export class KeypadJob {
  /** Set by `advance` for the frame it moved to. */
  action: KeyAction = 'none';
  code = -1;
  tone: Int16Array | null = null;
  duration = 0;
  end = false;
  marker = false;
  /** RTP timestamp at which the current event started (set by the leg on its first packet). */
  eventStart = 0;
  /** Stopped (and told so): only the end packets of an event already begun still go out. */
  stopped = false;
  private step = 0;
  private frame = 0;

  constructor(
    readonly id: number,
    readonly mode: KeypadMode,
    private readonly steps: KeyStep[],
  ) {}

  static from(s: KeypadJobState): KeypadJob {
    const job = new KeypadJob(s.id, s.mode, s.steps.map((x) => ({ ...x })));
    job.step = s.step;
    job.frame = s.frame;
    job.eventStart = s.eventStart;
    job.stopped = s.stopped;
    return job;
  }

  state(): KeypadJobState {
    return { id: this.id, mode: this.mode, steps: this.steps.map((x) => ({ ...x })), step: this.step, frame: this.frame, eventStart: this.eventStart, stopped: this.stopped };
  }

  get done(): boolean {
    return this.step >= this.steps.length;
  }

  /** Moves one frame on and says what to do in it (`action` and its fields); false once done. */
  advance(): boolean {
    this.action = 'none';
    const s = this.steps[this.step];
    if (s === undefined) return false;
    const f = this.frame;
    if (++this.frame >= s.frames) {
      this.step++;
      this.frame = 0;
    }
    if (s.code < 0) return true;
    this.code = s.code;
    const toneFrames = s.frames - GAP_FRAMES;
    if (this.mode === 'inband') {
      if (f < toneFrames) {
        this.action = 'tone';
        this.tone = digitTone(s.code).subarray(f * KEY_FRAME, (f + 1) * KEY_FRAME);
      }
    } else if (this.mode === 'press') {
      if (f === toneFrames - 1) this.action = 'released';
    } else if (f < toneFrames - 1 + END_REPEATS) {
      this.action = 'event';
      this.marker = f === 0;
      this.end = f >= toneFrames - 1;
      this.duration = Math.min(f + 1, toneFrames) * KEY_FRAME;
    }
    return true;
  }

  /**
   * Stops the job (stopPlay, the leg closing). An RFC 4733 event already begun is ended
   * properly — its end packet three times, with the duration so far — so the far end does not
   * hold the key until its own timeout; everything else stops at once. True while those end
   * packets are still to go (the leg keeps the job until then).
   */
  stop(): boolean {
    this.stopped = true;
    const s = this.steps[this.step];
    if (this.mode === 'rfc4733' && s !== undefined && s.code >= 0 && this.frame > 0) {
      // Cut the tone so that the next frame is the event's end (steps are this job's own copies).
      if (this.frame < s.frames - GAP_FRAMES) s.frames = this.frame + 1 + GAP_FRAMES;
      if (this.frame < s.frames - GAP_FRAMES - 1 + END_REPEATS) {
        this.steps.length = this.step + 1;
        return true;
      }
    }
    this.step = this.steps.length;
    return false;
  }
}
