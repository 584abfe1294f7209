/**
 * The N-1 mixer, checked with distinct tones and Goertzel bins (reference/media-plane.md §6):
 * nobody hears themselves, mute and hold act on the next frame, a coach is heard only by the
 * coachee, clipping clamps without wrap, and talk detection has its hysteresis.
 */
import { describe, expect, it } from 'vitest';
import { Mixer } from '../../src/media/mixer.js';
import { ScriptedSource, SquareSource, ToneSource, dbfs, goertzel } from './goertzel.js';

const A_HZ = 400;
const B_HZ = 1000;
const C_HZ = 1800;
const AMP = 8000;

/** Heard: within 1 dB of the sent amplitude. Not heard: below −40 dBFS. */
function expectHears(out: Int16Array | null, hz: number): void {
  expect(Math.abs(goertzel(out, hz) - AMP)).toBeLessThan(AMP * 0.11);
}
function expectNotHears(out: Int16Array | null, hz: number): void {
  expect(dbfs(goertzel(out, hz))).toBeLessThan(-40);
}

function room(): Mixer {
  const mixer = new Mixer();
  mixer.addLeg('A', { input: new ToneSource(A_HZ, AMP) });
  mixer.addLeg('B', { input: new ToneSource(B_HZ, AMP) });
  mixer.addLeg('C', { input: new ToneSource(C_HZ, AMP) });
  return mixer;
}

const out = (m: Mixer, id: string): Int16Array | null => m.getLeg(id)!.output;

describe('N-1 mix', () => {
  it('gives each talker everyone but themselves', () => {
    const m = room();
    m.tick();
    expectNotHears(out(m, 'A'), A_HZ);
    expectHears(out(m, 'A'), B_HZ);
    expectHears(out(m, 'A'), C_HZ);
    expectHears(out(m, 'B'), A_HZ);
    expectNotHears(out(m, 'B'), B_HZ);
    expectHears(out(m, 'B'), C_HZ);
    expectHears(out(m, 'C'), A_HZ);
    expectHears(out(m, 'C'), B_HZ);
    expectNotHears(out(m, 'C'), C_HZ);
  });

  it('computes the mix once for every listener that did not contribute', () => {
    const m = room();
    m.addLeg('L1');
    m.addLeg('L2', { input: new ScriptedSource() });
    m.tick();
    const l1 = m.getLeg('L1')!;
    const l2 = m.getLeg('L2')!;
    expect(l1.outputShared).toBe(true);
    expect(l1.output).toBe(l2.output);
    for (const hz of [A_HZ, B_HZ, C_HZ]) expectHears(l1.output, hz);
    expect(m.getLeg('A')!.outputShared).toBe(false);
  });

  it('outputs silence (null) when nobody is heard', () => {
    const m = new Mixer();
    m.addLeg('X');
    m.addLeg('Y', { input: new ToneSource(A_HZ) }, { muted: true });
    m.tick();
    expect(out(m, 'X')).toBeNull();
    expect(out(m, 'Y')).toBeNull();
  });

  it('clamps four full-scale squares without wrap-around', () => {
    const m = new Mixer();
    for (const id of ['S1', 'S2', 'S3', 'S4']) m.addLeg(id, { input: new SquareSource() });
    m.addLeg('L');
    m.tick();
    const square = new SquareSource().pop();
    for (const id of ['S1', 'S2', 'S3', 'S4', 'L']) {
      const o = out(m, id)!;
      for (let i = 0; i < 160; i++) expect(o[i]).toBe(square[i]); // 3 or 4 in phase: clipped, same sign
    }
  });
});

describe('mute, hold, deaf, waiting', () => {
  it('silences a muted leg in the next frame, and unmute restores it', () => {
    const m = room();
    m.tick();
    m.setFlags('A', { muted: true });
    m.tick();
    expectNotHears(out(m, 'B'), A_HZ);
    expectNotHears(out(m, 'C'), A_HZ);
    expectHears(out(m, 'A'), B_HZ); // a muted leg still hears
    expectHears(out(m, 'A'), C_HZ);
    m.setFlags('A', { muted: false });
    m.tick();
    expectHears(out(m, 'B'), A_HZ);
    expectHears(out(m, 'C'), A_HZ);
  });

  it('plays the hold source to a held leg instead of the mix, and nobody hears it', () => {
    const m = room();
    m.getLeg('C')!.holdSource = new ToneSource(600, AMP);
    m.setFlags('C', { hold: true });
    m.tick();
    expectHears(out(m, 'C'), 600);
    expectNotHears(out(m, 'C'), A_HZ);
    expectNotHears(out(m, 'C'), B_HZ);
    expectNotHears(out(m, 'A'), C_HZ);
    expectNotHears(out(m, 'B'), C_HZ);
    m.setFlags('C', { hold: false });
    m.tick();
    expectHears(out(m, 'C'), A_HZ);
    expectHears(out(m, 'A'), C_HZ);
  });

  it('gives a held leg silence when it has no hold source', () => {
    const m = room();
    m.setFlags('C', { hold: true });
    m.tick();
    expect(out(m, 'C')).toBeNull();
  });

  it('sends silence to a deaf leg that is still heard', () => {
    const m = room();
    m.setFlags('A', { canHear: false });
    m.tick();
    expect(out(m, 'A')).toBeNull();
    expectHears(out(m, 'B'), A_HZ);
  });

  it('switches hold and wait sources mid-hold with setSources; absent keys are kept', () => {
    const m = room();
    m.setSources('C', { holdSource: new ToneSource(600, AMP), waitSource: new ToneSource(2200, AMP) });
    m.setFlags('C', { hold: true });
    m.tick();
    expectHears(out(m, 'C'), 600);
    m.setSources('C', { holdSource: new ToneSource(2600, AMP) });
    m.tick();
    expectHears(out(m, 'C'), 2600);
    expectNotHears(out(m, 'C'), 600);
    m.setSources('C', { holdSource: null });
    m.tick();
    expect(out(m, 'C')).toBeNull();
    m.setFlags('C', { hold: false, waiting: true });
    m.tick();
    expectHears(out(m, 'C'), 2200);
    expect(() => m.setSources('Z', { holdSource: null })).toThrow();
  });

  it('plays the wait source to a waiting leg, which is not heard', () => {
    const m = room();
    m.getLeg('A')!.waitSource = new ToneSource(600, AMP);
    m.setFlags('A', { waiting: true });
    m.tick();
    expectHears(out(m, 'A'), 600);
    expectNotHears(out(m, 'A'), B_HZ);
    expectNotHears(out(m, 'B'), A_HZ);
  });
});

describe('coaching', () => {
  it('lets only the coachee hear the coach; the coach hears the room', () => {
    const m = room();
    m.addLeg('D', { input: new ToneSource(2200, AMP) }, { coachOf: 'A' });
    m.addLeg('L');
    m.tick();
    expectHears(out(m, 'A'), 2200);
    expectHears(out(m, 'A'), B_HZ);
    expectNotHears(out(m, 'A'), A_HZ);
    for (const id of ['B', 'C', 'L']) expectNotHears(out(m, id), 2200);
    expectHears(out(m, 'D'), A_HZ);
    expectHears(out(m, 'D'), B_HZ);
    expectNotHears(out(m, 'D'), 2200);
    // A muted coach is not heard by the coachee either.
    m.setFlags('D', { muted: true });
    m.tick();
    expectNotHears(out(m, 'A'), 2200);
  });

  it('reaches a coachee that is itself silent', () => {
    const m = new Mixer();
    m.addLeg('agent');
    m.addLeg('customer', { input: new ToneSource(B_HZ, AMP) });
    m.addLeg('coach', { input: new ToneSource(2200, AMP) }, { coachOf: 'agent' });
    m.tick();
    expectHears(out(m, 'agent'), 2200);
    expectHears(out(m, 'agent'), B_HZ);
    expectNotHears(out(m, 'customer'), 2200);
  });
});

describe('talk detection', () => {
  it('starts after 5 frames over the threshold and stops after 40 below', () => {
    const events: [string, boolean][] = [];
    const m = new Mixer({ onTalking: (id, talking) => events.push([id, talking]) });
    const src = new ScriptedSource();
    m.addLeg('T', { input: src });
    src.level = 1000;
    for (let i = 0; i < 4; i++) m.tick();
    expect(events).toEqual([]);
    m.tick();
    expect(events).toEqual([['T', true]]);
    expect(m.getLeg('T')!.talking).toBe(true);
    // A short pause under the hangover keeps talking on.
    src.level = 100; // under 160
    for (let i = 0; i < 39; i++) m.tick();
    src.level = 1000;
    m.tick();
    expect(events).toHaveLength(1);
    src.level = null;
    for (let i = 0; i < 39; i++) m.tick();
    expect(events).toHaveLength(1);
    m.tick();
    expect(events).toEqual([['T', true], ['T', false]]);
  });

  it('ignores isolated loud frames', () => {
    const events: boolean[] = [];
    const m = new Mixer({ onTalking: (_id, t) => events.push(t) });
    const src = new ScriptedSource();
    m.addLeg('T', { input: src });
    for (let i = 0; i < 50; i++) {
      src.level = i % 5 === 0 ? null : 2000; // 4 loud, 1 silent
      m.tick();
    }
    expect(events).toEqual([]);
  });

  it('stops talking at once when muted, and on removal', () => {
    const events: [string, boolean][] = [];
    const m = new Mixer({ onTalking: (id, t) => events.push([id, t]) });
    m.addLeg('T', { input: new ToneSource(A_HZ, AMP) });
    m.addLeg('U', { input: new ToneSource(B_HZ, AMP) });
    for (let i = 0; i < 5; i++) m.tick();
    expect(events).toEqual([['T', true], ['U', true]]);
    m.setFlags('T', { muted: true });
    m.tick();
    expect(events.slice(2)).toEqual([['T', false]]);
    expect(m.removeLeg('U')).toBe(true);
    expect(events.slice(3)).toEqual([['U', false]]);
    expect(m.size).toBe(1);
  });
});

describe('leg management', () => {
  it('rejects duplicate ids and unknown legs', () => {
    const m = new Mixer();
    m.addLeg('A');
    expect(() => m.addLeg('A')).toThrow();
    expect(() => m.setFlags('Z', { muted: true })).toThrow();
    expect(m.removeLeg('Z')).toBe(false);
  });
});
