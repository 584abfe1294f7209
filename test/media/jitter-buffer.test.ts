/**
 * Jitter buffer: ordering across the 16-bit wrap, priming to the target, duplicates, late
 * packets, overflow, concealment, resync, SSRC change and the adaptive target.
 */
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../src/media/jitter-buffer.js';

const SSRC = 0x1234;

/** A frame whose samples all carry `tag` so the popped frame identifies its packet. */
function frame(tag: number): Int16Array {
  return new Int16Array(160).fill(tag);
}

function tagOf(out: Int16Array | null): number | null {
  return out === null ? null : out[0]!;
}

function pushSeq(jb: JitterBuffer, seq: number, tag = seq, ssrc = SSRC, ts = seq * 160): void {
  jb.push(seq & 0xffff, ts >>> 0, ssrc, frame(tag));
}

describe('ordering', () => {
  it('primes to the 40 ms target, then plays one frame per pop', () => {
    const jb = new JitterBuffer();
    expect(jb.pop()).toBeNull(); // nothing yet
    pushSeq(jb, 100);
    expect(jb.pop()).toBeNull(); // 20 ms buffered < 40 ms target
    pushSeq(jb, 101);
    expect(tagOf(jb.pop())).toBe(100);
    pushSeq(jb, 102);
    expect(tagOf(jb.pop())).toBe(101);
    expect(jb.stats.depth).toBe(20);
    expect(jb.stats.targetMs).toBe(40);
  });

  it('reorders packets, including across the sequence wrap', () => {
    const jb = new JitterBuffer();
    // Logical (unwrapped) numbers; pushSeq sends them modulo 2^16 with continuous timestamps.
    for (const s of [65533, 65535, 65534, 65537, 65536, 65538, 65539]) pushSeq(jb, s, s - 65000);
    const out: (number | null)[] = [];
    for (let i = 0; i < 7; i++) out.push(tagOf(jb.pop()));
    expect(out).toEqual([533, 534, 535, 536, 537, 538, 539]);
    expect(jb.stats.lost).toBe(0);
  });

  it('accepts a reordered packet older than the first one before playout starts', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 11);
    pushSeq(jb, 10);
    expect(jb.stats.late).toBe(0);
    expect(tagOf(jb.pop())).toBe(10);
    expect(tagOf(jb.pop())).toBe(11);
  });

  it('drops duplicates and late packets', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 1);
    pushSeq(jb, 2);
    pushSeq(jb, 2);
    expect(jb.stats.duplicates).toBe(1);
    expect(tagOf(jb.pop())).toBe(1);
    pushSeq(jb, 1); // already played
    expect(jb.stats.late).toBe(1);
    expect(tagOf(jb.pop())).toBe(2);
  });

  it('holds at most 200 ms, dropping the oldest frames', () => {
    const jb = new JitterBuffer();
    for (let s = 0; s < 15; s++) pushSeq(jb, s);
    expect(jb.stats.depth).toBe(200);
    expect(jb.stats.overflowDropped).toBe(5);
    expect(tagOf(jb.pop())).toBe(5);
  });

  it('copies the payload, padding short payloads with silence', () => {
    const jb = new JitterBuffer();
    const p = frame(9);
    jb.push(0, 0, SSRC, p);
    p.fill(0);
    jb.push(1, 160, SSRC, new Int16Array(80).fill(4));
    expect(tagOf(jb.pop())).toBe(9);
    const second = jb.pop()!;
    expect(second[79]).toBe(4);
    expect(second[80]).toBe(0);
  });
});

describe('concealment', () => {
  it('replaces a lost frame with the last one at −6 dB', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 0, 1000);
    pushSeq(jb, 1, 1000);
    pushSeq(jb, 3, 3000);
    pushSeq(jb, 4, 4000);
    expect(tagOf(jb.pop())).toBe(1000);
    expect(tagOf(jb.pop())).toBe(1000);
    expect(tagOf(jb.pop())).toBe(500); // seq 2 missing, 3 is buffered
    expect(jb.stats.lost).toBe(1);
    expect(jb.stats.concealed).toBe(1);
    expect(tagOf(jb.pop())).toBe(3000);
    expect(tagOf(jb.pop())).toBe(4000);
  });

  it('conceals an underrun with −6 dB, −12 dB, then silence, and re-primes', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 0, 800);
    pushSeq(jb, 1, 800);
    expect(tagOf(jb.pop())).toBe(800);
    expect(tagOf(jb.pop())).toBe(800);
    expect(tagOf(jb.pop())).toBe(400);
    expect(tagOf(jb.pop())).toBe(200);
    expect(jb.pop()).toBeNull();
    expect(jb.stats.underruns).toBe(1);
    // The delayed packets arrive: they are not late (nothing was skipped) and play after priming.
    pushSeq(jb, 2, 2);
    pushSeq(jb, 3, 3);
    pushSeq(jb, 4, 4);
    expect(jb.stats.late).toBe(0);
    expect(tagOf(jb.pop())).toBe(2);
    expect(tagOf(jb.pop())).toBe(3);
  });
});

describe('resync and SSRC', () => {
  it('restarts on a sequence jump of more than 1 s', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 0);
    pushSeq(jb, 1);
    pushSeq(jb, 2);
    expect(tagOf(jb.pop())).toBe(0);
    pushSeq(jb, 5000, 7, SSRC, 3 * 160);
    expect(jb.stats.resyncs).toBe(1);
    expect(jb.stats.depth).toBe(20);
    pushSeq(jb, 5001, 8, SSRC, 4 * 160);
    expect(tagOf(jb.pop())).toBe(7);
  });

  it('restarts on a timestamp jump of more than 1 s with contiguous sequence numbers', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 0);
    pushSeq(jb, 1);
    pushSeq(jb, 2, 2, SSRC, 2 * 160 + 8001);
    expect(jb.stats.resyncs).toBe(1);
    pushSeq(jb, 3, 3, SSRC, 2 * 160 + 8001 + 160);
    expect(tagOf(jb.pop())).toBe(2);
    // A jump inside the 1 s window is tolerated.
    pushSeq(jb, 4, 4, SSRC, 2 * 160 + 8001 + 320 + 7000);
    expect(jb.stats.resyncs).toBe(1);
  });

  it('resets when the SSRC changes', () => {
    const jb = new JitterBuffer();
    pushSeq(jb, 10);
    pushSeq(jb, 11);
    pushSeq(jb, 12);
    expect(tagOf(jb.pop())).toBe(10);
    pushSeq(jb, 500, 500, 0x9999);
    expect(jb.stats.ssrcChanges).toBe(1);
    expect(jb.stats.depth).toBe(20);
    expect(jb.pop()).toBeNull(); // priming again, no concealment carried over from the old source
    pushSeq(jb, 501, 501, 0x9999);
    expect(tagOf(jb.pop())).toBe(500);
  });
});

describe('adaptive target', () => {
  it('raises the target to 60 ms after underruns and lowers it after a calm period', () => {
    const jb = new JitterBuffer({ calmPops: 20 });
    let seq = 0;
    pushSeq(jb, seq++);
    pushSeq(jb, seq++);
    jb.pop();
    jb.pop();
    jb.pop(); // underrun
    expect(jb.stats.targetMs).toBe(60);
    pushSeq(jb, seq++);
    pushSeq(jb, seq++);
    expect(jb.pop()).not.toBeNull(); // still concealing
    pushSeq(jb, seq++);
    expect(tagOf(jb.pop())).toBe(2); // 60 ms buffered → plays
    for (let i = 0; i < 25; i++) {
      pushSeq(jb, seq++);
      expect(jb.pop()).not.toBeNull();
    }
    expect(jb.stats.targetMs).toBe(40);
  });

  it('sheds latency built up by a burst', () => {
    const jb = new JitterBuffer({ shrinkWindowPops: 10 });
    let seq = 0;
    for (let i = 0; i < 8; i++) pushSeq(jb, seq++); // a 160 ms burst
    for (let i = 0; i < 200; i++) {
      expect(jb.pop()).not.toBeNull();
      pushSeq(jb, seq++);
    }
    expect(jb.stats.shrinkDropped).toBeGreaterThan(0);
    expect(jb.stats.depth).toBeLessThanOrEqual(60);
    expect(jb.stats.underruns).toBe(0);
  });
});

describe('network jitter', () => {
  it('plays a stream delayed by 0–60 ms per packet with few concealed frames', () => {
    const jb = new JitterBuffer();
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const frames = 500;
    // Packet i leaves at 20·i ms and arrives 0–60 ms later (so packets also get reordered).
    const arrivals = Array.from({ length: frames }, (_, i) => ({ seq: i, at: 20 * i + rand() * 60 }));
    arrivals.sort((a, b) => a.at - b.at);
    let next = 0;
    const played: number[] = [];
    let silent = 0;
    for (let t = 0; t < 20 * frames + 200; t += 20) {
      while (next < frames && arrivals[next]!.at <= t) pushSeq(jb, arrivals[next++]!.seq, arrivals[next - 1]!.seq + 1);
      const out = jb.pop();
      if (out === null) silent++;
      else if (out[0]! > 0 && jb.stats.concealed === 0) played.push(out[0]!);
    }
    // Output stays continuous: after the adaptation the bulk of frames are played in order.
    const s = jb.stats;
    expect(s.received).toBe(frames);
    expect(s.lost + s.late).toBeLessThan(frames * 0.03);
    expect(s.concealed).toBeLessThan(frames * 0.03);
    expect(s.targetMs).toBeGreaterThanOrEqual(40);
    expect(s.targetMs).toBeLessThanOrEqual(60);
    for (let i = 1; i < played.length; i++) expect(played[i]!).toBeGreaterThan(played[i - 1]!);
    expect(silent).toBeLessThan(20);
  });
});
