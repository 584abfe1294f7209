/**
 * The N-1 ("mix-minus") mixer of one room, run once per 20 ms tick.
 *
 * It follows FreeSWITCH mod_conference (`conference_thread_run`): read one frame per member, add
 * the members that are heard into a 32-bit accumulator, then for each listener subtract its own
 * frame and clamp once to int16 (`switch_normalize_to_16bit`). Summing in 32 bits first keeps
 * N-1 exact; Asterisk's 16-bit saturating adds leave artefacts once the sum clipped
 * (reference/media-plane.md §1.1). From Asterisk bridge_softmix (`softmix_translate_helper`) it
 * takes the shared mix: every listener that contributed nothing hears the same audio, so that
 * mix is computed once and exposed as one array, which the caller can encode once per codec.
 *
 * Who is heard: legs not muted, not on hold and not waiting (a muted member never reaches the
 * sum, as in FreeSWITCH without MFLAG_CAN_SPEAK). A coach (Twilio `Coaching`, jambonz
 * `speakOnlyTo`) is heard only by the leg it coaches; it hears the room like anyone else.
 * What a leg hears: a waiting leg (conference not started) its wait source, a held leg its hold
 * source (instead of the mix — the FreeSWITCH bug #796 was hold only muting), a leg with
 * `canHear` off silence, everyone else the mix without themselves.
 *
 * Silence is not mixed: a frame whose mean |sample| is below `silenceThreshold` (32, about
 * −60 dBFS) from a leg that is not talking stays out of the sum. FreeSWITCH mixes a member only
 * while it "has audio", and Asterisk recommends `dsp_drop_silence` for large conferences: the
 * result sounds the same, but every listener who is silent hears the room's shared mix, so in a
 * room of 10 with two talkers 8 legs share one mix and one encoding instead of 10 private ones.
 *
 * Talk detection per leg uses FreeSWITCH's score (mean |sample| per frame) against Asterisk's
 * default threshold of 160, with FreeSWITCH's hysteresis (hangunder 5 frames on, hangover 40
 * frames off). A leg that stops being heard (mute, hold) stops talking at once, like Asterisk's
 * `clear_talking`.
 *
 * Steady state allocates nothing: buffers are made in `addLeg`, `tick` only loops over typed
 * arrays, and outputs are views owned by the mixer, valid until the next tick.
 */

/** Anything that yields one frame per tick; `null` means silence. A JitterBuffer is one. */
export interface FrameSource {
  pop(): Int16Array | null;
}

export interface LegFlags {
  /** Not heard by anyone; still hears the room. */
  muted: boolean;
  /** Not heard; hears its hold source instead of the room. */
  hold: boolean;
  /** False = "deaf": hears silence (still heard by others unless muted). */
  canHear: boolean;
  /** When set, this leg is heard only by the leg with that id. */
  coachOf: string | null;
  /** Conference not started for this leg: not heard; hears its wait source. */
  waiting: boolean;
}

export interface LegSources {
  /** Decoded input (usually the leg's jitter buffer); absent = silent leg. */
  input?: FrameSource | null;
  /** Played to the leg while on hold; absent = silence. Give each leg its own source. */
  holdSource?: FrameSource | null;
  /** Played to the leg while waiting; absent = silence. Give each leg its own source. */
  waitSource?: FrameSource | null;
}

export interface MixerOptions {
  /** Samples per frame: 160 = 20 ms at 8 kHz. */
  frameSamples?: number;
  /** Mean |sample| above which a frame counts as speech (Asterisk dsp_talking_threshold). */
  talkThreshold?: number;
  /** Mean |sample| below which a non-talking leg's frame is silence and not mixed. */
  silenceThreshold?: number;
  /** Consecutive speech frames before talking starts (FreeSWITCH hangunder). */
  talkOnFrames?: number;
  /** Consecutive non-speech frames before talking stops (FreeSWITCH hangover). */
  talkOffFrames?: number;
  /** Called when a leg starts or stops talking. */
  onTalking?: (legId: string, talking: boolean) => void;
}

export class MixerLeg {
  readonly flags: LegFlags;
  input: FrameSource | null;
  holdSource: FrameSource | null;
  waitSource: FrameSource | null;
  /** What this leg hears after the last tick; null = silence. Valid until the next tick. */
  output: Int16Array | null = null;
  /** True when `output` is the room's shared mix (the same array for every such leg). */
  outputShared = false;
  /** Talk detection state. */
  talking = false;
  /** Mean |sample| of the last frame read (0 when silent or not heard). */
  energy = 0;

  /** @internal the frame read this tick */
  frame: Int16Array | null = null;
  /** @internal whether `frame` went into the room sum this tick */
  contributed = false;
  /** @internal tick number at which `coachAcc` was last cleared */
  coachTick = -1;
  /** @internal sum of the coaches heard by this leg this tick */
  readonly coachAcc: Int32Array;
  /** @internal this leg's private N-1 output */
  readonly out: Int16Array;
  /** @internal hysteresis counters */
  onRun = 0;
  offRun = 0;

  constructor(readonly id: string, frameSamples: number, sources: LegSources, flags: Partial<LegFlags>) {
    this.flags = { muted: false, hold: false, canHear: true, coachOf: null, waiting: false, ...flags };
    this.input = sources.input ?? null;
    this.holdSource = sources.holdSource ?? null;
    this.waitSource = sources.waitSource ?? null;
    this.coachAcc = new Int32Array(frameSamples);
    this.out = new Int16Array(frameSamples);
  }
}

export class Mixer {
  private readonly frameSamples: number;
  private readonly talkLevel: number;
  private readonly silenceLevel: number;
  private readonly talkOn: number;
  private readonly talkOff: number;
  private readonly onTalking: ((legId: string, talking: boolean) => void) | undefined;
  private readonly acc: Int32Array;
  private readonly shared: Int16Array;
  private readonly list: MixerLeg[] = [];
  private readonly byId = new Map<string, MixerLeg>();
  private tickNo = 0;
  /** Legs in the room sum at the last tick. */
  private heard = 0;

  constructor(options: MixerOptions = {}) {
    this.frameSamples = options.frameSamples ?? 160;
    // Compare sums, not means: Σ|s| > threshold · N avoids a division per leg.
    this.talkLevel = (options.talkThreshold ?? 160) * this.frameSamples;
    this.silenceLevel = (options.silenceThreshold ?? 32) * this.frameSamples;
    this.talkOn = options.talkOnFrames ?? 5;
    this.talkOff = options.talkOffFrames ?? 40;
    this.onTalking = options.onTalking;
    this.acc = new Int32Array(this.frameSamples);
    this.shared = new Int16Array(this.frameSamples);
  }

  get legs(): readonly MixerLeg[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  getLeg(id: string): MixerLeg | undefined {
    return this.byId.get(id);
  }

  addLeg(id: string, sources: LegSources = {}, flags: Partial<LegFlags> = {}): MixerLeg {
    if (this.byId.has(id)) throw new Error(`leg ${id} is already in the mixer`);
    const leg = new MixerLeg(id, this.frameSamples, sources, flags);
    this.list.push(leg);
    this.byId.set(id, leg);
    return leg;
  }

  /** Removes a leg; a leg that was talking gets its stop event. */
  removeLeg(id: string): boolean {
    const leg = this.byId.get(id);
    if (!leg) return false;
    this.byId.delete(id);
    this.list.splice(this.list.indexOf(leg), 1);
    if (leg.talking) this.setTalking(leg, false);
    return true;
  }

  /** Changes flags; they take effect at the next tick. */
  setFlags(id: string, flags: Partial<LegFlags>): void {
    const leg = this.byId.get(id);
    if (!leg) throw new Error(`leg ${id} is not in the mixer`);
    Object.assign(leg.flags, flags);
  }

  /**
   * Replaces a leg's hold and/or wait source (keys absent are kept; null = silence). The next
   * tick already reads the new source, so a held leg hears the change at once.
   */
  setSources(id: string, sources: Pick<LegSources, 'holdSource' | 'waitSource'>): void {
    const leg = this.byId.get(id);
    if (!leg) throw new Error(`leg ${id} is not in the mixer`);
    if (sources.holdSource !== undefined) leg.holdSource = sources.holdSource;
    if (sources.waitSource !== undefined) leg.waitSource = sources.waitSource;
  }

  /** Mixes one frame for every leg; read each leg's `output` afterwards. */
  tick(): void {
    const n = this.frameSamples;
    const acc = this.acc;
    const legs = this.list;
    const tick = ++this.tickNo;
    acc.fill(0);
    let contributors = 0;

    // Pass 1: read every input, accumulate who is heard, and measure energy on the way.
    for (let l = 0; l < legs.length; l++) {
      const leg = legs[l]!;
      const frame = leg.input !== null ? leg.input.pop() : null;
      const f = leg.flags;
      leg.frame = frame;
      leg.contributed = false;
      let sumAbs = 0;
      if (frame !== null && !f.muted && !f.hold && !f.waiting) {
        for (let i = 0; i < n; i++) {
          const s = frame[i]!;
          sumAbs += s < 0 ? -s : s;
        }
        if (leg.talking || sumAbs >= this.silenceLevel) {
          if (f.coachOf === null) {
            for (let i = 0; i < n; i++) acc[i] = acc[i]! + frame[i]!;
            leg.contributed = true;
            contributors++;
          } else {
            const target = this.byId.get(f.coachOf);
            if (target !== undefined) {
              const c = target.coachAcc;
              if (target.coachTick !== tick) {
                c.fill(0);
                target.coachTick = tick;
              }
              for (let i = 0; i < n; i++) c[i] = c[i]! + frame[i]!;
            }
          }
        }
      } else if (leg.talking && (f.muted || f.hold || f.waiting)) {
        // No longer heard: stop at once rather than after the hangover.
        leg.onRun = 0;
        leg.offRun = 0;
        this.setTalking(leg, false);
      }
      leg.energy = sumAbs / n;
      this.detectTalk(leg, sumAbs > this.talkLevel);
    }

    this.heard = contributors;

    // Pass 2: what each leg hears.
    let sharedReady = false;
    for (let l = 0; l < legs.length; l++) {
      const leg = legs[l]!;
      const f = leg.flags;
      leg.outputShared = false;
      if (f.waiting) {
        leg.output = leg.waitSource !== null ? leg.waitSource.pop() : null;
        continue;
      }
      if (f.hold) {
        leg.output = leg.holdSource !== null ? leg.holdSource.pop() : null;
        continue;
      }
      if (!f.canHear) {
        leg.output = null;
        continue;
      }
      const coached = leg.coachTick === tick;
      if (!leg.contributed && !coached) {
        if (contributors === 0) {
          leg.output = null;
          continue;
        }
        if (!sharedReady) {
          clampInto(acc, this.shared, n);
          sharedReady = true;
        }
        leg.output = this.shared;
        leg.outputShared = true;
        continue;
      }
      const out = leg.out;
      if (leg.contributed && !coached) {
        const own = leg.frame!;
        for (let i = 0; i < n; i++) {
          const v = acc[i]! - own[i]!;
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      } else if (!leg.contributed) {
        const c = leg.coachAcc;
        for (let i = 0; i < n; i++) {
          const v = acc[i]! + c[i]!;
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      } else {
        const own = leg.frame!;
        const c = leg.coachAcc;
        for (let i = 0; i < n; i++) {
          const v = acc[i]! - own[i]! + c[i]!;
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
      leg.output = out;
    }
  }

  /**
   * The last tick's room sum — everyone heard, no one taken out, no coach — as a listener who
   * contributed nothing hears it (a room recording). False, `out` untouched, when no one was heard.
   */
  mixInto(out: Int16Array): boolean {
    if (this.heard === 0) return false;
    clampInto(this.acc, out, this.frameSamples);
    return true;
  }

  private detectTalk(leg: MixerLeg, speech: boolean): void {
    if (speech) {
      leg.offRun = 0;
      if (!leg.talking && ++leg.onRun >= this.talkOn) {
        leg.onRun = 0;
        this.setTalking(leg, true);
      }
    } else {
      leg.onRun = 0;
      if (leg.talking && ++leg.offRun >= this.talkOff) {
        leg.offRun = 0;
        this.setTalking(leg, false);
      }
    }
  }

  private setTalking(leg: MixerLeg, talking: boolean): void {
    leg.talking = talking;
    if (this.onTalking) this.onTalking(leg.id, talking);
  }
}

/** Clamps a 32-bit sum to int16 (hard clipping, no limiter — as both reference mixers do). */
function clampInto(src: Int32Array, dst: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    dst[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}
