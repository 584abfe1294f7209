/**
 * Per-leg adaptive jitter buffer for 20 ms frames of 16-bit PCM (160 samples at 8 kHz).
 *
 * It follows the defaults of Asterisk's adaptive JITTERBUFFER used by ConfBridge
 * (main/abstract_jb.c: max size 200 ms, target extra 40 ms, resync threshold 1000 ms) and sits,
 * as in both FreeSWITCH and Asterisk, in front of the mixer, one per channel — the mixer only
 * pops one frame per tick and never sees packets (reference/media-plane.md §0, §1.1).
 *
 * - Frames are ordered by RTP sequence number extended past its 16-bit wrap (RFC 3550 App. A.1).
 * - Playout starts once `target` ms are buffered; the target adapts between 40 and 60 ms: an
 *   underrun or a late packet raises it one frame, 10 s without either lowers it one frame.
 *   When a full second passed with more than target + 1 frame always waiting, the oldest frame is
 *   dropped so latency built up by a burst shrinks back.
 * - At most 200 ms are held; overflow drops the oldest frames (FreeSWITCH tosses the oldest too).
 * - Duplicates and packets whose slot was already played are dropped (before the first frame is
 *   played, an earlier packet arriving second moves the start back instead).
 * - A jump of more than 1 s in sequence number or timestamp, or a new SSRC, restarts the buffer.
 * - Concealment: a missing frame is replaced by the last good frame at −6 dB, the next by −12 dB,
 *   then silence (`null`), the cheap PLC suggested in reference/media-plane.md §7.
 *
 * No allocation after construction: slots are preallocated and `pop` returns an internal buffer
 * that stays valid until the next `pop`.
 */

export interface JitterBufferOptions {
  /** Samples per frame (160 = 20 ms at 8 kHz). */
  frameSamples?: number;
  /** Frame duration in ms. */
  frameMs?: number;
  /** Initial and minimum playout target in ms. */
  targetMs?: number;
  /** Upper bound for the adaptive target in ms. */
  maxTargetMs?: number;
  /** Most audio held before the oldest frames are dropped, in ms. */
  maxDepthMs?: number;
  /** A jump larger than this (sequence or timestamp) restarts the buffer, in ms. */
  resyncMs?: number;
  /** Frames concealed by attenuated repetition before the output turns to silence. */
  concealFrames?: number;
  /** Pops without underrun or late packet after which the target is lowered one frame. */
  calmPops?: number;
  /** Pops over which a surplus must persist before a frame is dropped to cut latency. */
  shrinkWindowPops?: number;
}

export interface JitterBufferStats {
  /** Packets pushed (including the ones dropped below). */
  received: number;
  /** Sequence numbers skipped at playout because they never arrived. */
  lost: number;
  /** Packets that arrived after their slot was played or skipped. */
  late: number;
  duplicates: number;
  /** Frames dropped, oldest first, because more than max depth was buffered. */
  overflowDropped: number;
  /** Frames dropped to bring latency back to the target after a burst. */
  shrinkDropped: number;
  /** Frames produced by repeating the last frame attenuated. */
  concealed: number;
  /** Pops that found the buffer empty while playing. */
  underruns: number;
  resyncs: number;
  ssrcChanges: number;
  /** Audio currently buffered, in ms. */
  depth: number;
  /** Current adaptive playout target, in ms. */
  targetMs: number;
}

const EMPTY = -1;

export class JitterBuffer {
  readonly stats: JitterBufferStats;

  private readonly frameSamples: number;
  private readonly frameMs: number;
  private readonly minTarget: number;
  private readonly maxTarget: number;
  private readonly maxFrames: number;
  private readonly resyncFrames: number;
  private readonly resyncSamples: number;
  private readonly concealFrames: number;
  private readonly calmPops: number;
  private readonly shrinkWindow: number;

  private readonly mask: number;
  private readonly slots: Int16Array[];
  /** Extended sequence number held by each slot, or EMPTY. */
  private readonly slotSeq: Float64Array;
  private readonly last: Int16Array;
  private readonly concealBuf: Int16Array;

  private started = false;
  private playing = false;
  private ssrc = 0;
  /** Next extended sequence number to play. */
  private nextSeq = 0;
  /** Highest extended sequence number received, and its RTP timestamp. */
  private highest = 0;
  private highestTs = 0;
  private count = 0;
  private target: number;
  private hasLast = false;
  /** Whether playout has moved past a sequence number since the last (re)start. */
  private advanced = false;
  private concealRun = 0;
  private calm = 0;
  private windowPops = 0;
  private windowMin = Infinity;

  constructor(options: JitterBufferOptions = {}) {
    this.frameSamples = options.frameSamples ?? 160;
    this.frameMs = options.frameMs ?? 20;
    const sampleRate = (this.frameSamples * 1000) / this.frameMs;
    this.minTarget = Math.max(1, Math.round((options.targetMs ?? 40) / this.frameMs));
    this.maxTarget = Math.max(this.minTarget, Math.round((options.maxTargetMs ?? 60) / this.frameMs));
    this.maxFrames = Math.max(this.maxTarget, Math.round((options.maxDepthMs ?? 200) / this.frameMs));
    const resyncMs = options.resyncMs ?? 1000;
    this.resyncFrames = Math.round(resyncMs / this.frameMs);
    this.resyncSamples = Math.round((resyncMs * sampleRate) / 1000);
    this.concealFrames = options.concealFrames ?? 2;
    this.calmPops = options.calmPops ?? 500;
    this.shrinkWindow = options.shrinkWindowPops ?? 50;

    // A power-of-two ring larger than the max depth: slot = seq & mask never collides because
    // everything held lies within [nextSeq, nextSeq + maxFrames).
    let size = 1;
    while (size < this.maxFrames + 1) size <<= 1;
    this.mask = size - 1;
    this.slots = [];
    for (let i = 0; i < size; i++) this.slots.push(new Int16Array(this.frameSamples));
    this.slotSeq = new Float64Array(size).fill(EMPTY);
    this.last = new Int16Array(this.frameSamples);
    this.concealBuf = new Int16Array(this.frameSamples);
    this.target = this.minTarget;
    this.stats = {
      received: 0, lost: 0, late: 0, duplicates: 0, overflowDropped: 0, shrinkDropped: 0,
      concealed: 0, underruns: 0, resyncs: 0, ssrcChanges: 0, depth: 0, targetMs: this.target * this.frameMs,
    };
  }

  /** Accepts one received frame. `payload` is copied; at most one frame of it is kept. */
  push(seq: number, timestamp: number, ssrc: number, payload: Int16Array): void {
    const stats = this.stats;
    stats.received++;
    if (!this.started || ssrc !== this.ssrc) {
      if (this.started) {
        stats.ssrcChanges++;
        this.reset();
      }
      this.ssrc = ssrc;
      this.restart(seq, timestamp);
      this.store(this.nextSeq, payload);
      return;
    }
    // Signed distance from the highest sequence number, modulo 2^16 (RFC 3550 A.1).
    const delta = ((seq - (this.highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const expectedTs = (this.highestTs + delta * this.frameSamples) >>> 0;
    const tsDelta = ((timestamp - expectedTs) | 0);
    if (delta > this.resyncFrames || delta < -this.resyncFrames || tsDelta > this.resyncSamples || tsDelta < -this.resyncSamples) {
      stats.resyncs++;
      this.clear();
      this.restart(seq, timestamp);
      this.store(this.nextSeq, payload);
      return;
    }
    const ext = this.highest + delta;
    if (ext < this.nextSeq && !this.advanced && this.highest - ext < this.maxFrames) {
      // Nothing played since the stream (re)started: an earlier packet that arrives second is
      // reordering at the start of the stream, not lateness, so playout starts from it.
      this.nextSeq = ext;
    } else if (ext < this.nextSeq) {
      stats.late++;
      this.raiseTarget();
      return;
    }
    if (this.slotSeq[ext & this.mask] === ext) {
      stats.duplicates++;
      return;
    }
    if (ext >= this.nextSeq + this.maxFrames) {
      // Overflow: make room by dropping the oldest frames (slots that never arrived are just
      // skipped; they will not be counted as lost at playout any more).
      const newNext = ext - this.maxFrames + 1;
      for (let s = this.nextSeq; s < newNext; s++) {
        const i = s & this.mask;
        if (this.slotSeq[i] === s) {
          this.slotSeq[i] = EMPTY;
          this.count--;
          stats.overflowDropped++;
        }
      }
      this.nextSeq = newNext;
    }
    this.store(ext, payload);
    if (ext > this.highest) {
      this.highest = ext;
      this.highestTs = timestamp;
    }
  }

  /**
   * Returns the frame to play this tick, a concealment frame, or null for silence. Call exactly
   * once per frame interval. The returned array is reused by the next call.
   */
  pop(): Int16Array | null {
    if (!this.started) return null;
    const stats = this.stats;
    if (!this.playing) {
      if (this.count === 0 || this.highest - this.nextSeq + 1 < this.target) return this.conceal();
      this.playing = true;
    }
    this.adapt();
    const i = this.nextSeq & this.mask;
    if (this.slotSeq[i] === this.nextSeq) {
      this.last.set(this.slots[i]!);
      this.slotSeq[i] = EMPTY;
      this.count--;
      this.nextSeq++;
      this.advanced = true;
      this.hasLast = true;
      this.concealRun = 0;
      stats.depth = this.count * this.frameMs;
      return this.last;
    }
    if (this.count === 0) {
      // Nothing to play: wait for `target` frames again instead of skipping ahead, so a sender
      // that pauses (or a delay spike) does not turn every following packet into a late one.
      stats.underruns++;
      this.playing = false;
      this.raiseTarget();
      return this.conceal();
    }
    stats.lost++;
    this.nextSeq++;
    this.advanced = true;
    return this.conceal();
  }

  /** Forgets everything but the statistics (e.g. when the leg is re-INVITEd). */
  reset(): void {
    this.clear();
    this.started = false;
    this.hasLast = false;
    this.concealRun = 0;
    this.target = this.minTarget;
    this.calm = 0;
    this.stats.targetMs = this.target * this.frameMs;
  }

  private clear(): void {
    this.slotSeq.fill(EMPTY);
    this.count = 0;
    this.playing = false;
    this.windowPops = 0;
    this.windowMin = Infinity;
    this.stats.depth = 0;
  }

  private restart(seq: number, timestamp: number): void {
    // Extended numbers start one cycle up so a reordered predecessor never goes negative.
    this.started = true;
    this.advanced = false;
    this.nextSeq = seq + 0x10000;
    this.highest = this.nextSeq;
    this.highestTs = timestamp >>> 0;
  }

  private store(ext: number, payload: Int16Array): void {
    const i = ext & this.mask;
    const slot = this.slots[i]!;
    const n = this.frameSamples;
    if (payload.length >= n) {
      slot.set(payload.length === n ? payload : payload.subarray(0, n));
    } else {
      slot.set(payload);
      slot.fill(0, payload.length);
    }
    this.slotSeq[i] = ext;
    this.count++;
    this.stats.depth = this.count * this.frameMs;
  }

  private conceal(): Int16Array | null {
    if (!this.hasLast || this.concealRun >= this.concealFrames) return null;
    this.concealRun++;
    this.stats.concealed++;
    // −6 dB per repeated frame: an arithmetic shift halves the amplitude.
    const shift = this.concealRun;
    const src = this.last;
    const dst = this.concealBuf;
    for (let k = 0, n = this.frameSamples; k < n; k++) dst[k] = src[k]! >> shift;
    return dst;
  }

  private raiseTarget(): void {
    this.calm = 0;
    if (this.target < this.maxTarget) {
      this.target++;
      this.stats.targetMs = this.target * this.frameMs;
    }
  }

  /** Called once per playing pop: lowers the target after a calm period, sheds surplus latency. */
  private adapt(): void {
    if (++this.calm >= this.calmPops) {
      this.calm = 0;
      if (this.target > this.minTarget) {
        this.target--;
        this.stats.targetMs = this.target * this.frameMs;
      }
    }
    if (this.count < this.windowMin) this.windowMin = this.count;
    if (++this.windowPops < this.shrinkWindow) return;
    const surplus = this.windowMin > this.target + 1;
    this.windowPops = 0;
    this.windowMin = Infinity;
    if (!surplus) return;
    const i = this.nextSeq & this.mask;
    if (this.slotSeq[i] === this.nextSeq) {
      this.slotSeq[i] = EMPTY;
      this.count--;
      this.stats.shrinkDropped++;
    }
    this.nextSeq++;
    this.advanced = true;
  }
}
