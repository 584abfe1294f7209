/**
 * Recording taps (issue 13) on real media workers, with RTP legs over loopback UDP beside
 * simulated endpoints: a conference room's tap holds every talker and the room's sounds, not
 * the wait or hold music; a call's tap keeps what it says and what it hears apart (dual) or
 * alone or mixed (mono); pausing skips or silences; a call's tap follows its leg between rooms
 * and workers without losing or repeating a frame; taps end with their leg or room, and stop
 * once. Every wait is on audio arriving, never a fixed sleep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaPlane } from '../../src/endpoints/media/media-plane.js';
import type { MediaLeg } from '../../src/endpoints/media/media-leg.js';
import { MediaRecorderTaps } from '../../src/endpoints/media/recorder-taps.js';
import { BATCH_FRAMES } from '../../src/media/recording-tap.js';
import { ToneVoice } from '../../src/media/sources.js';
import { goertzel } from '../media/goertzel.js';
import { RtpPeer } from '../media/rtp-peer.js';
import { until } from '../helpers/until.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const FRAME = 160;
const BATCH = BATCH_FRAMES * FRAME;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function openPlane(): MediaPlane {
  const plane = new MediaPlane({ host: '127.0.0.1', workers: 2, rtpTimeoutMs: 0 }, quiet);
  cleanup.push(() => plane.close());
  return plane;
}

/** An RTP leg whose phone (a raw UDP peer) sends `hz` every 20 ms. */
async function phone(plane: MediaPlane, callSid: string, hz: number): Promise<MediaLeg> {
  const peer = await RtpPeer.open(hz);
  cleanup.push(() => peer.close());
  const { leg, local } = await plane.openRtpLeg(callSid, { codec: 'PCMU', remote: { address: '127.0.0.1', port: peer.port }, telephoneEvent: null });
  peer.target = local.port;
  const pacer = setInterval(() => peer.sendFrame(), 20);
  cleanup.push(async () => clearInterval(pacer));
  return leg;
}

const tone = (hz: number, seconds: number, amplitude = 6000): Int16Array =>
  Int16Array.from({ length: 8000 * seconds }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)));

/** What a tap handed over, batch by batch. */
class Tape {
  readonly batches: Int16Array[] = [];
  readonly onAudio = (pcm: Int16Array): void => {
    this.batches.push(pcm);
  };
  get samples(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }
  /** One channel of `channels` as 20 ms frames. */
  frames(channels = 1, channel = 0): Int16Array[] {
    const all = new Int16Array(this.samples);
    let o = 0;
    for (const b of this.batches) {
      all.set(b, o);
      o += b.length;
    }
    const mono = channels === 1 ? all : Int16Array.from({ length: all.length / channels }, (_, i) => all[i * channels + channel]!);
    const out: Int16Array[] = [];
    for (let i = 0; i + FRAME <= mono.length; i += FRAME) out.push(mono.subarray(i, i + FRAME));
    return out;
  }
  /** Resolves once `more` samples past `from` were handed over. */
  grown(from: number, more: number): Promise<true> {
    return until(() => this.samples >= from + more, 10_000, `${more} more samples (have ${this.samples - from})`);
  }
}

const has = (f: Int16Array, hz: number): boolean => goertzel(f, hz) > 1500;
const share = (frames: Int16Array[], test: (f: Int16Array) => boolean): number => frames.filter(test).length / Math.max(1, frames.length);
const silent = (f: Int16Array): boolean => f.every((s) => s === 0);

describe('recording taps', () => {
  it('a conference room: both talkers and the room beep, continuous, in batches; no wait or hold music', async () => {
    const plane = openPlane();
    const taps = new MediaRecorderTaps(plane);
    const room = plane.room('CF1');
    const a = await phone(plane, 'CA1', 400);
    const b = await plane.openSimLeg('CA2', { tone: { frequencyHz: 1000, amplitude: 6000 } }, false);
    // Two who do not talk: one waits (conference not started for it), one is on hold, each
    // with music of its own that must stay out of the room's recording.
    const waiting = await plane.openSimLeg('CA3', {}, false);
    const held = await plane.openSimLeg('CA4', {}, false);
    await waiting.setSources({ wait: { pcm: tone(3000, 1) } });
    await held.setSources({ hold: { pcm: tone(2600, 1) } });
    await Promise.all([a.enter(room, {}), b.enter(room, {}), waiting.enter(room, { waiting: true, muted: true }), held.enter(room, { hold: true })]);

    const tape = new Tape();
    const heardByWaiting = new Tape();
    const t0 = performance.now();
    const tap = await taps.start('RE1', { conferenceSid: 'CF1' }, { channels: 1, track: 'both' }, tape.onAudio);
    await taps.start('RE2', { callSid: 'CA3' }, { channels: 1, track: 'outbound' }, heardByWaiting.onAudio);
    await tape.grown(0, 8000);
    expect(await room.play({ pcm: tone(2200, 0.4) })).toBe(true);
    await tape.grown(tape.samples, 8000);
    const t1 = performance.now();
    await tap.stop();
    const elapsedMs = performance.now() - t0;

    // Batches, not frames: every one but the last is BATCH_FRAMES frames.
    expect(tape.batches.length).toBeGreaterThan(3);
    for (const b of tape.batches.slice(0, -1)) expect(b.length).toBe(BATCH);
    // As long as the recording ran (from the start's answer to the stop's).
    const recordedMs = (tape.samples / 8000) * 1000;
    expect(recordedMs).toBeGreaterThan(t1 - t0 - 300);
    expect(recordedMs).toBeLessThan(elapsedMs + 60);
    // Both talkers throughout (after the phone's first packets), the beep once, no music.
    const frames = tape.frames().slice(10);
    expect(share(frames, (f) => has(f, 400) && has(f, 1000))).toBeGreaterThan(0.9);
    const beep = share(frames, (f) => has(f, 2200)) * frames.length;
    expect(beep).toBeGreaterThanOrEqual(18);
    expect(beep).toBeLessThanOrEqual(21);
    expect(frames.filter((f) => goertzel(f, 3000) > 100 || goertzel(f, 2600) > 100)).toEqual([]);
    // The waiting leg did hear its music meanwhile.
    expect(share(heardByWaiting.frames(), (f) => has(f, 3000))).toBeGreaterThan(0.9);
  });

  it("a call's leg: dual keeps what it says on channel 1 and what it hears on channel 2; mono inbound, outbound, both", async () => {
    const plane = openPlane();
    const taps = new MediaRecorderTaps(plane);
    const a = await phone(plane, 'CA1', 400);
    const b = await plane.openSimLeg('CA2', { tone: { frequencyHz: 1000, amplitude: 6000 } }, false);
    await plane.bridge.join('BR1', ['CA1', 'CA2']);

    const tapes = { dual: new Tape(), inbound: new Tape(), outbound: new Tape(), both: new Tape() };
    const started = [
      await taps.start('RE1', { callSid: 'CA1' }, { channels: 2, track: 'both' }, tapes.dual.onAudio),
      await taps.start('RE2', { callSid: 'CA1' }, { channels: 1, track: 'inbound' }, tapes.inbound.onAudio),
      await taps.start('RE3', { callSid: 'CA1' }, { channels: 1, track: 'outbound' }, tapes.outbound.onAudio),
      await taps.start('RE4', { callSid: 'CA1' }, { channels: 1, track: 'both' }, tapes.both.onAudio),
    ];
    await tapes.both.grown(0, 3 * BATCH);
    await Promise.all(started.map((t) => t.stop()));
    expect(a.closed || b.closed).toBe(false);

    expect(tapes.dual.samples % 2).toBe(0);
    const said = tapes.dual.frames(2, 0).slice(10);
    const heard = tapes.dual.frames(2, 1).slice(10);
    expect(share(said, (f) => has(f, 400) && goertzel(f, 1000) < 100)).toBeGreaterThan(0.9);
    expect(share(heard, (f) => has(f, 1000) && goertzel(f, 400) < 100)).toBeGreaterThan(0.9);
    expect(share(tapes.inbound.frames().slice(10), (f) => has(f, 400) && goertzel(f, 1000) < 100)).toBeGreaterThan(0.9);
    expect(share(tapes.outbound.frames().slice(10), (f) => has(f, 1000) && goertzel(f, 400) < 100)).toBeGreaterThan(0.9);
    expect(share(tapes.both.frames().slice(10), (f) => has(f, 1000) && has(f, 400))).toBeGreaterThan(0.9);
  });

  it('pausing with skip leaves the time out; with silence keeps it as zeros', async () => {
    const plane = openPlane();
    const taps = new MediaRecorderTaps(plane);
    await plane.openSimLeg('CA1', { tone: { frequencyHz: 1000, amplitude: 6000 } }, false);
    const whole = new Tape();
    const skipped = new Tape();
    const silenced = new Tape();
    const reference = await taps.start('RE0', { callSid: 'CA1' }, { channels: 1, track: 'inbound' }, whole.onAudio);
    const skip = await taps.start('RE1', { callSid: 'CA1' }, { channels: 1, track: 'inbound' }, skipped.onAudio);
    const silence = await taps.start('RE2', { callSid: 'CA1' }, { channels: 1, track: 'inbound' }, silenced.onAudio);
    await whole.grown(0, BATCH);

    // The pause lasts from the middle of the pause requests' round trip to the middle of the resume's.
    const around = async (request: () => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      await request();
      return (t + performance.now()) / 2;
    };
    const pausedAt = await around(() => Promise.all([skip.pause('skip'), silence.pause('silence')]));
    await whole.grown(whole.samples, 2 * BATCH);
    const pausedMs = (await around(() => Promise.all([skip.resume(), silence.resume()]))) - pausedAt;
    await whole.grown(whole.samples, BATCH);
    await Promise.all([reference.stop(), skip.stop(), silence.stop()]);

    const ms = (tape: Tape): number => (tape.samples / 8000) * 1000;
    // Started one after the other: within a few frames of each other but for the pause.
    expect(Math.abs(ms(silenced) - ms(whole))).toBeLessThanOrEqual(80);
    expect(ms(whole) - ms(skipped)).toBeGreaterThan(pausedMs - 120);
    expect(ms(whole) - ms(skipped)).toBeLessThan(pausedMs + 120);
    // The skipped tape is the tone throughout; the silenced one has the pause as exact zeros.
    expect(skipped.frames().filter((f) => !has(f, 1000))).toEqual([]);
    const zeros = silenced.frames().filter(silent).length;
    expect(zeros * 20).toBeGreaterThan(pausedMs - 120);
    expect(zeros * 20).toBeLessThan(pausedMs + 120);
    expect(silenced.frames().filter((f) => !silent(f) && !has(f, 1000))).toEqual([]);
  });

  it("a call's tap follows its leg into a conference on another worker and back, without losing or repeating a frame", async () => {
    const plane = openPlane();
    const taps = new MediaRecorderTaps(plane);
    // Its home room on one worker; the conference's room lands on the other (MediaClient
    // places a new room on the worker with fewer legs).
    const voice = { frequencyHz: 1000, amplitude: 6000 };
    const s = await plane.openSimLeg('CA1', { tone: voice }, false);
    await phone(plane, 'CA2', 400);
    await plane.openSimLeg('CA3', {}, false);
    const workerLegs = async (): Promise<number[]> => ((await plane.request('stats', {})).workers ?? []).map((w) => w.legs);
    const before = await workerLegs();
    expect(before.toSorted()).toEqual([1, 2]);
    const room = plane.room('CF1');
    await plane.leg('CA2')!.enter(room, {});

    const tape = new Tape();
    const t0 = performance.now();
    const tap = await taps.start('RE1', { callSid: 'CA1' }, { channels: 2, track: 'both' }, tape.onAudio);
    await tape.grown(0, 2 * BATCH);
    await s.enter(room, {});
    expect(await workerLegs()).not.toEqual(before);
    await tape.grown(tape.samples, 4 * BATCH);
    await s.leave();
    expect(await workerLegs()).toEqual(before.map((n) => n));
    await tape.grown(tape.samples, 2 * BATCH);
    await tap.pause('silence');
    await s.enter(room, { muted: true });
    await tap.resume();
    await tape.grown(tape.samples, 2 * BATCH);
    await tap.stop();
    const elapsedMs = performance.now() - t0;

    // What it said is its voice sample for sample, frame after frame, but for silence where it
    // was between workers (or paused): nothing lost, nothing twice.
    const said = tape.frames(2, 0).filter((f) => !silent(f));
    const voiceFrames = new ToneVoice(voice);
    const expected: Int16Array[] = [];
    for (let i = 0; i < 50 * 60; i++) expected.push(voiceFrames.pop().slice());
    const first = expected.findIndex((f) => f.every((v, i) => v === said[0]![i]));
    expect(first).toBeGreaterThanOrEqual(0);
    const mismatch = said.findIndex((f, k) => !f.every((v, i) => v === expected[first + k]![i]));
    expect(mismatch).toBe(-1);
    // As long as the call was recorded: moves cost no time.
    const recordedMs = (tape.samples / 2 / 8000) * 1000;
    expect(recordedMs).toBeLessThan(elapsedMs + 60);
    expect(recordedMs).toBeGreaterThan(elapsedMs - 300);
    // It heard the phone only while in the conference.
    const heard = tape.frames(2, 1);
    expect(share(heard, (f) => has(f, 400))).toBeGreaterThan(0.3);
    expect(heard.slice(0, BATCH_FRAMES).filter((f) => has(f, 400))).toEqual([]);
  });

  it('a tap ends with its leg (after its last audio); a room tap with its room; stop is idempotent', async () => {
    const plane = openPlane();
    const taps = new MediaRecorderTaps(plane);
    const leg = await plane.openSimLeg('CA1', { tone: { frequencyHz: 1000, amplitude: 6000 } }, false);
    const other = await plane.openSimLeg('CA2', { tone: { frequencyHz: 400, amplitude: 6000 } }, false);
    const room = plane.room('CF1');
    await other.enter(room, {});
    const legTape = new Tape();
    const roomTape = new Tape();
    const t0 = performance.now();
    const legTap = await taps.start('RE1', { callSid: 'CA1' }, { channels: 1, track: 'inbound' }, legTape.onAudio);
    const startedAt = performance.now();
    const roomTap = await taps.start('RE2', { conferenceSid: 'CF1' }, { channels: 1, track: 'both' }, roomTape.onAudio);
    await legTape.grown(0, BATCH + FRAME);
    await roomTape.grown(0, BATCH + FRAME);

    let legEnded = false;
    void legTap.ended.then(() => (legEnded = true));
    const closing = performance.now();
    await leg.close();
    expect(legEnded).toBe(true);
    // Its unfinished batch came before the end: the tape lasts until the leg closed.
    const recordedMs = (legTape.samples / 8000) * 1000;
    expect(recordedMs).toBeGreaterThan(closing - startedAt - 60);
    expect(recordedMs).toBeLessThan(performance.now() - t0 + 20);
    await Promise.all([legTap.stop(), legTap.stop()]);

    await other.close();
    await roomTap.ended;
    expect(roomTape.frames().slice(-5).every((f) => has(f, 400))).toBe(true);
    const kept = roomTape.samples;
    await roomTap.stop();
    expect(roomTape.samples).toBe(kept);

    // Stopped twice while running: one end, nothing after it, `ended` not told.
    const again = await plane.openSimLeg('CA3', { tone: { frequencyHz: 1000, amplitude: 6000 } }, false);
    const tape = new Tape();
    const tap = await taps.start('RE3', { callSid: 'CA3' }, { channels: 1, track: 'inbound' }, tape.onAudio);
    await tape.grown(0, FRAME);
    let ended = false;
    void tap.ended.then(() => (ended = true));
    await Promise.all([tap.stop(), tap.stop()]);
    const stoppedAt = tape.samples;
    const witness = new Tape();
    await taps.start('RE4', { callSid: 'CA3' }, { channels: 1, track: 'inbound' }, witness.onAudio);
    await witness.grown(0, 2 * BATCH);
    expect(tape.samples).toBe(stoppedAt);
    await again.close();
    expect(ended).toBe(false);
    // Starting a tap where there is no media is refused.
    await expect(taps.start('RE5', { callSid: 'CA9' }, { channels: 1, track: 'both' }, tape.onAudio)).rejects.toMatchObject({ code: 'no-leg' });
    await expect(taps.start('RE6', { conferenceSid: 'CF9' }, { channels: 1, track: 'both' }, tape.onAudio)).rejects.toMatchObject({ code: 'no-room' });
  });
});
