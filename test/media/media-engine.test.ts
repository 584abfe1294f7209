/**
 * The media engine in-process, over loopback UDP: raw RTP peers send distinct tones into a room
 * and the test drives the engine's ticks itself, one per frame, after the frames it needs have
 * arrived (engine-harness.ts), so the assertions hold on a loaded machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MediaEngine } from '../../src/media/media-engine.js';
import type { MediaNotification } from '../../src/media/protocol.js';
import { builtinSounds } from '../../src/media/sounds.js';
import { EngineHarness, absent, present } from './engine-harness.js';
import { dbfs, goertzel } from './goertzel.js';
import { level } from './rtp-peer.js';
import { until } from '../helpers/until.js';
import type { RtpPeer } from './rtp-peer.js';
import { MediaError } from '../../src/media/media-error.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const TONES = { A: 400, B: 650, C: 1000 } as const;
type Name = keyof typeof TONES;

interface Room {
  engine: MediaEngine;
  peers: Map<string, RtpPeer>;
  notes: MediaNotification[];
  /** Adds an RTP leg whose peer sends `hz` (null = listen only). */
  addPeer(id: string, hz: number | null): Promise<RtpPeer>;
  /** n frames: every talking peer sends one packet, the engine ticks once, every peer gets one. */
  step(n?: number): Promise<void>;
}

/** One room 'r1' on the shared harness (`udp` as in MediaEngineOptions; default production's). */
async function room(udp?: 'native' | 'dgram'): Promise<Room> {
  const h = new EngineHarness(cleanup, udp);
  await h.createRooms('r1');
  return { engine: h.engine, peers: h.peers, notes: h.notes, addPeer: (id, hz) => h.addPeer('r1', id, hz), step: (n) => h.step(n) };
}

async function threeTalkers(udp?: 'native' | 'dgram'): Promise<Room> {
  const r = await room(udp);
  for (const id of Object.keys(TONES) as Name[]) await r.addPeer(id, TONES[id]);
  await r.step(4);
  return r;
}

function expectHearsOthers(r: Room, listener: Name, except: Name[] = []): void {
  const pcm = r.peers.get(listener)!.last();
  for (const talker of Object.keys(TONES) as Name[]) {
    const hz = TONES[talker];
    if (talker === listener || except.includes(talker)) expect(absent(pcm, hz), `${listener} must not hear ${talker}`).toBe(true);
    else expect(present(pcm, hz), `${listener} must hear ${talker}`).toBe(true);
  }
}

describe('MediaEngine', () => {
  it('sends every leg the N-1 mix, and the shared mix once encoded to listeners', async () => {
    const r = await threeTalkers();
    for (const id of Object.keys(TONES) as Name[]) expectHearsOthers(r, id);

    await r.addPeer('L1', null);
    await r.addPeer('L2', null);
    const before = await r.engine.request('stats', {});
    await r.step(3);
    const after = await r.engine.request('stats', {});
    for (const l of ['L1', 'L2']) {
      const pcm = r.peers.get(l)!.last();
      for (const hz of Object.values(TONES)) expect(present(pcm, hz)).toBe(true);
    }
    // Per tick: one shared encode for both listeners, one private encode per talker.
    expect(after.sharedEncodes - before.sharedEncodes).toBe(3);
    expect(after.privateEncodes - before.privateEncodes).toBe(9);
    const a = after.legs.find((l) => l.legId === 'A')!;
    expect(a.packetsIn).toBe(9);
    expect(a.packetsOut).toBe(7);
    expect(a.packetsLost).toBe(0);
  });

  it.each([['production (native where built)', undefined], ['node:dgram (the fallback)', 'dgram']] as const)(
    'mute silences a participant at the others within two frames; unmute restores it — sockets: %s',
    async (_name, udp) => {
      const r = await threeTalkers(udp);
      for (const id of Object.keys(TONES) as Name[]) expectHearsOthers(r, id);
      await r.engine.request('setLeg', { legId: 'B', muted: true });
      await r.step(1);
      expectHearsOthers(r, 'A', ['B']);
      expectHearsOthers(r, 'C', ['B']);
      expectHearsOthers(r, 'B'); // a muted leg still hears the room
      await r.engine.request('setLeg', { legId: 'B', muted: false });
      await r.step(2);
      expectHearsOthers(r, 'A');
      expectHearsOthers(r, 'C');
    },
  );

  it('hold: the held leg is not heard and hears hold music instead of the room', async () => {
    const r = await threeTalkers();
    await r.engine.request('setLeg', { legId: 'C', hold: true });
    await r.step(12);
    expectHearsOthers(r, 'A', ['C']);
    expectHearsOthers(r, 'B', ['C']);
    const c = r.peers.get('C')!.last(5);
    expect(level(c)).toBeGreaterThan(200);
    for (const hz of [TONES.A, TONES.B]) expect(dbfs(goertzel(c, hz))).toBeLessThan(-40);
    await r.engine.request('setLeg', { legId: 'C', hold: false });
    await r.step(2);
    expectHearsOthers(r, 'C');
  });

  it('a coach is heard only by its coachee', async () => {
    const r = await threeTalkers();
    await r.engine.request('setLeg', { legId: 'C', coachOf: 'A' });
    await r.step(2);
    expectHearsOthers(r, 'A');
    expectHearsOthers(r, 'B', ['C']);
    expectHearsOthers(r, 'C');
  });

  it('waiting legs hear wait music and are not heard', async () => {
    const r = await threeTalkers();
    await r.engine.request('setLeg', { legId: 'A', waiting: true });
    await r.step(12);
    expectHearsOthers(r, 'B', ['A']);
    expectHearsOthers(r, 'C', ['A']);
    const a = r.peers.get('A')!.last(5);
    expect(level(a)).toBeGreaterThan(200);
    for (const hz of [TONES.B, TONES.C]) expect(dbfs(goertzel(a, hz))).toBeLessThan(-40);
  });

  it('plays a beep to the whole room and an exit beep to one leg, then reports played', async () => {
    const r = await threeTalkers();
    const { playId } = await r.engine.request('play', { target: { roomId: 'r1' }, sound: 'beep' });
    await r.step(2);
    for (const id of Object.keys(TONES) as Name[]) {
      expect(present(r.peers.get(id)!.last(), 700)).toBe(true);
      expectHearsOthers(r, id); // over the mix, not instead of it
    }
    await r.step(12); // 0.25 s = 12.5 frames
    expect(r.notes).toContainEqual({ kind: 'notify', type: 'played', id: playId, stopped: false });
    for (const id of Object.keys(TONES) as Name[]) expect(absent(r.peers.get(id)!.last(), 700)).toBe(true);

    const exit = await r.engine.request('play', { target: { legId: 'B' }, sound: 'beep-exit' });
    await r.step(2);
    expect(present(r.peers.get('B')!.last(), 500)).toBe(true);
    expect(absent(r.peers.get('A')!.last(), 500)).toBe(true);
    expect(absent(r.peers.get('C')!.last(), 500)).toBe(true);
    expect(await r.engine.request('stopPlay', { target: { legId: 'B' } })).toEqual({ stopped: 1 });
    expect(r.notes).toContainEqual({ kind: 'notify', type: 'played', id: exit.playId, stopped: true });
  });

  it('reports talking on and off', async () => {
    const r = await threeTalkers();
    await r.step(2);
    for (const id of Object.keys(TONES)) expect(r.notes).toContainEqual({ kind: 'notify', type: 'talking', legId: id, talking: true });
    await r.engine.request('setLeg', { legId: 'A', muted: true });
    await r.step(1);
    expect(r.notes).toContainEqual({ kind: 'notify', type: 'talking', legId: 'A', talking: false });
  });

  it('a sim leg with a tone is heard by RTP peers; a recording sim leg hears the room', async () => {
    const r = await threeTalkers();
    await r.engine.request('addLeg', { roomId: 'r1', legId: 'S', kind: 'sim', tone: { frequencyHz: 1500, amplitude: 8000 } });
    const rec = await r.engine.request('addLeg', { roomId: 'r1', legId: 'R', kind: 'sim', record: true });
    expect(rec).toEqual({ localAddress: null, localPort: null });
    await r.step(5);
    for (const id of Object.keys(TONES) as Name[]) expect(present(r.peers.get(id)!.last(), 1500)).toBe(true);

    const { wav } = await r.engine.request('takeRecording', { legId: 'R' });
    const v = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    const ascii = (o: number, n: number): string => String.fromCharCode(...wav.subarray(o, o + n));
    expect(ascii(0, 4)).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(wav.length - 8);
    expect(ascii(8, 8)).toBe('WAVEfmt ');
    expect(v.getUint16(20, true)).toBe(1); // PCM
    expect(v.getUint16(22, true)).toBe(1); // mono
    expect(v.getUint32(24, true)).toBe(8000);
    expect(v.getUint16(34, true)).toBe(16);
    expect(ascii(36, 4)).toBe('data');
    expect(v.getUint32(40, true)).toBe(5 * 160 * 2);
    const pcm = new Int16Array(wav.slice(44).buffer);
    const lastFrame = pcm.subarray(pcm.length - 160);
    for (const hz of [...Object.values(TONES), 1500]) expect(present(lastFrame, hz)).toBe(true);
    // Taking the recording empties it.
    expect((await r.engine.request('takeRecording', { legId: 'R' })).wav.length).toBe(44);
  });

  it('closes an RTP leg that stops receiving (rtp-timeout) and reports it', async () => {
    const notes: MediaNotification[] = [];
    const engine = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 150 });
    cleanup.push(() => engine.close());
    await engine.request('createRoom', { roomId: 'r' });
    await engine.request('addLeg', { roomId: 'r', legId: 'quiet', kind: 'rtp', codec: 'PCMA' });
    await engine.request('addLeg', { roomId: 'r', legId: 'never', kind: 'rtp', codec: 'PCMU', rtpTimeoutMs: 0 });
    engine.start();
    await until(() => notes.some((n) => n.type === 'legClosed'), 5000, 'legClosed');
    expect(notes).toContainEqual({ kind: 'notify', type: 'legClosed', legId: 'quiet', roomId: 'r', reason: 'rtp-timeout' });
    expect(engine.rtpLegOf('quiet')).toBeNull();
    expect(engine.rtpLegOf('never')).not.toBeNull();
    await expect(engine.request('removeLeg', { legId: 'quiet' })).rejects.toThrow(/no leg/);
  });

  it('starts the RTP timeout of a leg added unanswered (rtpTimeoutMs 0) when told the call was answered', async () => {
    const notes: MediaNotification[] = [];
    const engine = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 150 });
    cleanup.push(() => engine.close());
    await engine.request('createRoom', { roomId: 'r' });
    await engine.request('addLeg', { roomId: 'r', legId: 'quiet', kind: 'rtp', codec: 'PCMU' });
    await engine.request('addLeg', { roomId: 'r', legId: 'ringing', kind: 'rtp', codec: 'PCMU', rtpTimeoutMs: 0 });
    engine.start();
    const closed = (legId: string): boolean => notes.some((n) => n.type === 'legClosed' && n.legId === legId);
    await until(() => closed('quiet'), 5000, 'quiet closed');
    expect(closed('ringing')).toBe(false); // silent as long as the quiet one, and still open
    const answeredAt = performance.now();
    await engine.request('startRtpTimeout', { legId: 'ringing' });
    await until(() => closed('ringing'), 5000, 'ringing closed');
    expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(140); // counted from the answer
    expect(notes).toContainEqual({ kind: 'notify', type: 'legClosed', legId: 'ringing', roomId: 'r', reason: 'rtp-timeout' });
  });

  it('rejects bad requests with an error reply', async () => {
    const engine = new MediaEngine(() => undefined);
    cleanup.push(() => engine.close());
    // Errors cross the worker boundary with their code (media-error.ts), not as bare strings.
    expect(await engine.handle({ kind: 'request', id: 7, type: 'setLeg', params: { legId: 'x', muted: true } })).toEqual({ kind: 'reply', id: 7, ok: false, error: 'no leg x', code: 'no-leg' });
    await engine.request('createRoom', { roomId: 'r' });
    await expect(engine.request('createRoom', { roomId: 'r' })).rejects.toMatchObject({ code: 'exists', message: expect.stringMatching(/exists/) });
    await engine.request('addLeg', { roomId: 'r', legId: 's', kind: 'sim' });
    await expect(engine.request('addLeg', { roomId: 'r', legId: 's', kind: 'sim' })).rejects.toMatchObject({ code: 'exists' });
    await expect(engine.request('takeRecording', { legId: 's' })).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/does not record/) });
    await expect(engine.request('addLeg', { roomId: 'nowhere', legId: 't', kind: 'sim' })).rejects.toBeInstanceOf(MediaError);
    // A range with room for one RTP leg: the second says the ports ran out, by its code.
    const portRange = { min: 41000, max: 41001 };
    await engine.request('addLeg', { roomId: 'r', legId: 'rtp1', kind: 'rtp', codec: 'PCMU', portRange });
    await expect(engine.request('addLeg', { roomId: 'r', legId: 'rtp2', kind: 'rtp', codec: 'PCMU', portRange })).rejects.toMatchObject({ code: 'ports-exhausted' });
  });
});

describe('built-in sounds', () => {
  it('are 8 kHz PCM16 at moderate levels without clipping', () => {
    const s = builtinSounds();
    expect(s.beep.length).toBe(2000);
    expect(present(s.beep.subarray(800, 960), 700)).toBe(true);
    expect(present(s['beep-exit'].subarray(200, 360), 500)).toBe(true);
    for (const [name, pcm] of Object.entries(s)) {
      let peak = 0;
      for (const x of pcm) peak = Math.max(peak, Math.abs(x));
      expect(peak, name).toBeLessThanOrEqual(8000);
      expect(peak, name).toBeGreaterThan(3000);
    }
    expect(s['hold-music'].length).toBe(8 * 8000);
    expect(s['wait-music'].length).toBe(8 * 8000);
    // Ringback: 440 + 480 Hz for 2 s, then 4 s of silence (one 6 s cycle).
    expect(s.ringback.length).toBe(6 * 8000);
    expect(present(s.ringback.subarray(8000, 8160), 440)).toBe(true);
    expect(present(s.ringback.subarray(8000, 8160), 480)).toBe(true);
    expect(s.ringback.subarray(2 * 8000 + 80).every((x) => x === 0)).toBe(true);
  });
});
