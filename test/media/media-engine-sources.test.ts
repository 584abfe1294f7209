/**
 * What legs hear and say besides the mix, over loopback UDP: hold and wait sources replaced
 * with setSources (a sound, or silence) take effect on the next frame, also mid-hold; a sim leg
 * with a PCM voice is heard by everyone else, its loop seamless.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ToneSource } from './goertzel.js';
import { EngineHarness, absent, present } from './engine-harness.js';
import { level } from './rtp-peer.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** `samples` of a sine; a length holding whole periods loops without a click. */
function tonePcm(hz: number, samples: number, amplitude = 6000): Int16Array {
  return Int16Array.from(new ToneSource(hz, amplitude, samples).pop());
}

/** μ-law silence decodes to 0; allow a little for any codec noise. */
const SILENT = 4;

describe('setSources', () => {
  it('replaces the hold and wait sources at once; null is silence, absent keeps the source', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.addPeer('r', 'A', 400);
    await h.addPeer('r', 'H', null);
    await h.step(3);
    expect(present(h.heard('H'), 400)).toBe(true);

    await h.engine.request('setLeg', { legId: 'H', hold: true });
    await h.step(12);
    expect(level(h.heard('H', 5))).toBeGreaterThan(200); // built-in hold music
    expect(absent(h.heard('H'), 1000)).toBe(true);

    // Mid-hold: the next frame is already the new sound.
    await h.engine.request('setSources', { legId: 'H', hold: { pcm: tonePcm(1000, 800) } });
    await h.step(1);
    expect(present(h.heard('H'), 1000)).toBe(true);
    expect(absent(h.heard('H'), 400)).toBe(true);
    await h.step(8); // past the end of the 800-sample sound: it loops
    for (let i = 1; i <= 8; i++) expect(present(h.peers.get('H')!.received.at(-i)!, 1000)).toBe(true);

    await h.engine.request('setSources', { legId: 'H', hold: null });
    await h.step(2);
    expect(level(h.heard('H', 2))).toBeLessThan(SILENT);

    // Only the wait source changes; hold stays silent.
    await h.engine.request('setSources', { legId: 'H', wait: { pcm: tonePcm(1500, 800) } });
    await h.step(1);
    expect(level(h.heard('H'))).toBeLessThan(SILENT);
    await h.engine.request('setLeg', { legId: 'H', hold: false, waiting: true });
    await h.step(1);
    expect(present(h.heard('H'), 1500)).toBe(true);
    expect(absent(h.heard('H'), 400)).toBe(true);

    // A built-in name works too, and a waiting leg is still not heard by the room.
    await h.engine.request('setSources', { legId: 'H', wait: 'beep' });
    await h.step(1);
    expect(present(h.heard('H'), 700)).toBe(true);
    expect(absent(h.heard('H'), 1500)).toBe(true);

    await h.engine.request('setLeg', { legId: 'H', waiting: false });
    await h.step(1);
    expect(present(h.heard('H'), 400)).toBe(true);
    expect(absent(h.heard('H'), 700)).toBe(true);
  });

  it('applies to a sim leg and rejects unknown legs and sounds', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.engine.request('addLeg', { roomId: 'r', legId: 'R', kind: 'sim', record: true, flags: { hold: true } });
    await h.engine.request('setSources', { legId: 'R', hold: { pcm: tonePcm(1000, 8000) } });
    for (let i = 0; i < 3; i++) h.engine.tick();
    const { wav } = await h.engine.request('takeRecording', { legId: 'R' });
    const pcm = new Int16Array(wav.slice(44).buffer);
    expect(pcm.length).toBe(3 * 160);
    expect(present(pcm.subarray(320), 1000)).toBe(true);

    await expect(h.engine.request('setSources', { legId: 'nope', hold: null })).rejects.toThrow(/no leg nope/);
    await expect(h.engine.request('setSources', { legId: 'R', hold: 'nope' as 'beep' })).rejects.toThrow(/unknown sound/);
  });
});

describe('sim leg voice', () => {
  it('is heard by the other legs, looped without a gap, and reported as talking', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.addPeer('r', 'A', 400);
    await h.addPeer('r', 'L', null);
    // 1000 samples = 125 periods of 1000 Hz: not a whole number of frames, so the loop wraps
    // inside frames.
    await h.engine.request('addLeg', { roomId: 'r', legId: 'S', kind: 'sim', voice: tonePcm(1000, 1000, 8000) });
    await h.step(14);
    for (let i = 1; i <= 10; i++) {
      expect(present(h.peers.get('L')!.received.at(-i)!, 1000), `frame -${i}`).toBe(true);
      expect(present(h.peers.get('A')!.received.at(-i)!, 1000), `frame -${i}`).toBe(true);
    }
    expect(present(h.heard('L'), 400)).toBe(true);
    expect(h.notes).toContainEqual({ kind: 'notify', type: 'talking', legId: 'S', talking: true });
  });

  it('takes the voice over a tone when both are given', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.addPeer('r', 'L', null);
    await h.engine.request('addLeg', { roomId: 'r', legId: 'S', kind: 'sim', voice: tonePcm(1000, 800), tone: { frequencyHz: 400, amplitude: 8000 } });
    await h.step(3);
    expect(present(h.heard('L'), 1000)).toBe(true);
    expect(absent(h.heard('L'), 400)).toBe(true);
  });
});
