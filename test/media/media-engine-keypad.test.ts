/**
 * Keypad digits through the media engine, over loopback UDP (issue 12): `sendDigits` as
 * RFC 4733 events to a peer that negotiated telephone-event (the packets as a raw peer sees
 * them, and decoded back by another leg), as in-band tones to a peer without it (heard by the
 * peer, and detected by another leg the peer loops them into), `pressKeys` on a sim leg, and
 * what stopping, closing and moving a leg do to digits on their way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../src/media/codec/g711.js';
import { DIGITS } from '../../src/media/keypad.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import type { MediaNotification } from '../../src/media/protocol.js';
import { parseRtp } from '../../src/media/rtp/rtp-packet.js';
import { builtinSounds } from '../../src/media/sounds.js';
import { accepted, EngineHarness } from './engine-harness.js';
import { goertzel } from './goertzel.js';
import type { RtpPeer } from './rtp-peer.js';
import { digitsIn } from './digits-in.js';
import { speechLike } from './speech-like.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const TE = 101;

interface Packet {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Uint8Array;
}

/** Every RTP packet a peer's socket receives, raw (besides what RtpPeer decodes itself). */
function capture(peer: RtpPeer): Packet[] {
  const packets: Packet[] = [];
  peer.socket.on('message', (msg) => {
    const p = parseRtp(msg);
    if (p) packets.push({ pt: p.payloadType, marker: p.marker, seq: p.sequenceNumber, ts: p.timestamp, ssrc: p.ssrc, payload: new Uint8Array(p.payload) });
  });
  return packets;
}

const played = (notes: MediaNotification[], id: number): MediaNotification | undefined => notes.find((n) => n.type === 'played' && n.id === id);
const digitsOf = (notes: MediaNotification[], legId: string): string => notes.flatMap((n) => (n.type === 'dtmf' && n.legId === legId ? [n.digit] : [])).join('');

/** Ticks until the job `id` is played, at most `max` ticks. */
async function stepUntilPlayed(h: EngineHarness, id: number, max = 400): Promise<number> {
  for (let k = 1; k <= max; k++) {
    await h.step(1);
    if (played(h.notes, id)) return k;
  }
  throw new Error(`job ${id} not played after ${max} ticks`);
}

describe('sendDigits as RFC 4733 events', () => {
  it('sends each digit as an event in the audio stream (marker, fixed timestamp, growing duration, end ×3), and a leg decodes them back', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r', 'back');
    const peer = await h.addPeer('r', 'S', null, { telephoneEventPayloadType: TE });
    const packets = capture(peer);
    // A leg that receives what S's peer receives, as a far end with telephone-event would.
    const back = await h.addPeer('back', 'B', null, { telephoneEventPayloadType: TE });
    peer.socket.on('message', (msg) => back.socket.send(msg, back.target, '127.0.0.1'));
    await h.step(2);

    const { playId } = await h.engine.request('sendDigits', { legId: 'S', digits: '1w23*#A' });
    await stepUntilPlayed(h, playId);
    await h.step(3);
    expect(played(h.notes, playId)).toMatchObject({ stopped: false });

    // One stream: one SSRC, sequence numbers without a hole, audio and events alike.
    expect(new Set(packets.map((p) => p.ssrc)).size).toBe(1);
    for (let i = 1; i < packets.length; i++) expect(packets[i]!.seq).toBe((packets[i - 1]!.seq + 1) & 0xffff);
    // The clock runs on through events: every audio packet has the timestamp of its slot.
    const clock = (p: Packet): number => (packets[0]!.ts + 160 * ((p.seq - packets[0]!.seq) & 0xffff)) >>> 0;
    for (const p of packets.filter((x) => x.pt === 0)) expect(p.ts).toBe(clock(p));

    const events = packets.filter((p) => p.pt === TE);
    const byStart = new Map<number, Packet[]>();
    for (const p of events) byStart.set(p.ts, [...(byStart.get(p.ts) ?? []), p]);
    const sent: string[] = [];
    for (const [start, group] of byStart) {
      const fields = group.map((p) => ({ code: p.payload[0]!, end: (p.payload[1]! & 0x80) !== 0, volume: p.payload[1]! & 0x3f, duration: (p.payload[2]! << 8) | p.payload[3]! }));
      expect(group[0]!.ts).toBe(clock(group[0]!)); // the event starts where its first packet stands
      expect(group.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
      expect(fields.map((f) => f.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
      expect(fields.map((f) => f.end)).toEqual([false, false, false, false, true, true, true]);
      expect(new Set(fields.map((f) => f.code)).size).toBe(1);
      expect(fields.every((f) => f.volume === 10)).toBe(true);
      expect(start).toBe(group[0]!.ts);
      sent.push(DIGITS[fields[0]!.code]!);
    }
    expect(sent.join('')).toBe('123*#A');
    // Digit to digit 200 ms (1600 samples); the `w` adds 500 ms (4000).
    const starts = [...byStart.keys()].map((t) => (t - [...byStart.keys()][0]!) >>> 0);
    expect(starts).toEqual([0, 5600, 7200, 8800, 10400, 12000]);
    // While a key is down, no audio goes out.
    const firstEvent = packets.indexOf(events[0]!);
    expect(packets.slice(firstEvent, firstEvent + 7).every((p) => p.pt === TE)).toBe(true);

    await h.arrived(() => digitsOf(h.notes, 'B') === '123*#A', 'the digits decoded by leg B');
  });

  it('ends an event cut short by stopPlay with its end packet three times, and settles the job stopped', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    const peer = await h.addPeer('r', 'S', null, { telephoneEventPayloadType: TE });
    const packets = capture(peer);
    await h.step(1);
    const { playId } = await h.engine.request('sendDigits', { legId: 'S', digits: '99' });
    await h.step(3);
    expect(await h.engine.request('stopPlay', { target: { legId: 'S' }, playId })).toEqual({ stopped: 1 });
    expect(played(h.notes, playId)).toMatchObject({ stopped: true });
    await h.step(6);
    const events = packets.filter((p) => p.pt === TE).map((p) => ({ end: (p.payload[1]! & 0x80) !== 0, duration: (p.payload[2]! << 8) | p.payload[3]! }));
    expect(events).toEqual([
      { end: false, duration: 160 },
      { end: false, duration: 320 },
      { end: false, duration: 480 },
      { end: true, duration: 640 },
      { end: true, duration: 640 },
      { end: true, duration: 640 },
    ]);
    expect(packets.slice(-2).every((p) => p.pt === 0)).toBe(true);
    expect(h.notes.filter((n) => n.type === 'played' && n.id === playId)).toHaveLength(1);
  });

  it('refuses characters outside the keypad alphabet', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.addPeer('r', 'S', null, { telephoneEventPayloadType: TE });
    await expect(h.engine.request('sendDigits', { legId: 'S', digits: '12x' })).rejects.toMatchObject({ code: 'invalid' });
    await expect(h.engine.request('sendDigits', { legId: 'nobody', digits: '1' })).rejects.toMatchObject({ code: 'no-leg' });
  });
});

describe('sendDigits as in-band tones', () => {
  it('a peer without telephone-event hears the Q.23 pairs, and a leg it loops them into reports each digit once, in order', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r', 'back');
    const peer = await h.addPeer('r', 'A', null);
    const back = await h.addPeer('back', 'B', null);
    let looped = 0;
    peer.socket.on('message', (msg) => {
      looped++;
      back.socket.send(msg, back.target, '127.0.0.1');
    });
    await h.step(2);
    const { playId } = await h.engine.request('sendDigits', { legId: 'A', digits: '159#0*D' });
    for (let k = 0; k < 200 && !played(h.notes, playId); k++) {
      await h.step(1);
      await accepted(h.engine, h.engine.rtpLegOf('B')!, looped);
    }
    for (let k = 0; k < 5; k++) {
      await h.step(1);
      await accepted(h.engine, h.engine.rtpLegOf('B')!, looped);
    }
    expect(played(h.notes, playId)).toMatchObject({ stopped: false });
    expect(h.engine.rtpLegOf('A')!.stats.otherPayloadType).toBe(0);

    const heard = peer.last(peer.received.length);
    expect(digitsIn(heard)).toBe('159#0*D');
    // The first tone frame holds 697 and 1209 Hz ('1') at about −10 and −8 dBm0, nothing at the other rows.
    const first = peer.received.findIndex((f) => goertzel(f, 697) > 1000);
    const frame = peer.received[first + 1]!;
    expect(goertzel(frame, 697)).toBeGreaterThan(6000);
    expect(goertzel(frame, 1209)).toBeGreaterThan(7500);
    expect(goertzel(frame, 852)).toBeLessThan(800);
    expect(goertzel(frame, 1477)).toBeLessThan(800);

    expect(digitsOf(h.notes, 'B')).toBe('159#0*D');
    expect(digitsOf(h.notes, 'A')).toBe('');
  });

  it('reports no digit from music or speech-like audio on a leg without telephone-event', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    const peer = await h.addPeer('r', 'M', null);
    await h.step(1);
    const rtp = h.engine.rtpLegOf('M')!;
    const sounds = builtinSounds();
    const audio = [sounds['hold-music'], sounds['wait-music'], speechLike(10, 11)];
    const payload = new Uint8Array(160);
    let sent = 0;
    for (const pcm of audio) {
      for (let i = 0; i + 160 <= pcm.length; i += 160) {
        encodeMulaw(pcm.subarray(i, i + 160), payload);
        peer.sendRaw(0, payload);
        sent++;
        await accepted(h.engine, rtp, sent);
        h.engine.tick();
      }
    }
    expect(rtp.detector!.filtered).toBeGreaterThan(sent / 2); // the audio went through the filters
    expect(h.notes.filter((n) => n.type === 'dtmf')).toEqual([]);
  });
});

describe('pressKeys and digits to sim legs', () => {
  it('reports each key of a sim leg when released, 200 ms apart, a pause as long as asked, and nobody hears a thing', async () => {
    const notes: MediaNotification[] = [];
    const engine = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 0 });
    cleanup.push(() => engine.close());
    await engine.request('createRoom', { roomId: 'r' });
    await engine.request('addLeg', { roomId: 'r', legId: 'P', kind: 'sim', record: true });
    await engine.request('addLeg', { roomId: 'r', legId: 'R', kind: 'sim', record: true });
    const { playId } = await engine.request('pressKeys', { legId: 'P', digits: '12W#' });
    const at: [number, string][] = [];
    for (let tick = 1; tick <= 200 && !played(notes, playId); tick++) {
      const before = notes.length;
      engine.tick();
      for (const n of notes.slice(before)) if (n.type === 'dtmf') at.push([tick, `${n.legId}:${n.digit}`]);
    }
    // Released after 100 ms of tone; the next key 100 ms later; `W` holds off one more second.
    expect(at).toEqual([
      [5, 'P:1'],
      [15, 'P:2'],
      [75, 'P:#'],
    ]);
    expect(played(notes, playId)).toMatchObject({ stopped: false });
    for (const legId of ['P', 'R']) {
      const pcm = new Int16Array((await engine.request('takeRecording', { legId })).wav.buffer.slice(44));
      expect(pcm.length).toBeGreaterThan(160 * 70);
      expect(pcm.every((s) => s === 0)).toBe(true);
    }
    await expect(engine.request('pressKeys', { legId: 'P', digits: '1?' })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('refuses pressKeys on an RTP leg: only a simulated far end presses keys here', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.addPeer('r', 'S', null);
    await expect(h.engine.request('pressKeys', { legId: 'S', digits: '1' })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('lays the tones over what a recording sim leg hears, so its WAV has them', async () => {
    const notes: MediaNotification[] = [];
    const engine = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 0 });
    cleanup.push(() => engine.close());
    await engine.request('createRoom', { roomId: 'r' });
    await engine.request('addLeg', { roomId: 'r', legId: 'R', kind: 'sim', record: true });
    // Someone talking in the room: the tones go over the mix R hears.
    await engine.request('addLeg', { roomId: 'r', legId: 'T', kind: 'sim', tone: { frequencyHz: 400, amplitude: 3000 } });
    const { playId } = await engine.request('sendDigits', { legId: 'R', digits: '42#' });
    for (let k = 0; k < 100 && !played(notes, playId); k++) engine.tick();
    expect(played(notes, playId)).toMatchObject({ stopped: false });
    const pcm = new Int16Array((await engine.request('takeRecording', { legId: 'R' })).wav.buffer.slice(44));
    expect(digitsIn(pcm)).toBe('42#');
    expect(goertzel(pcm.subarray(160 * 10, 160 * 11), 400)).toBeGreaterThan(2000);
    // T hears nothing of them: the digits go to R's far end only.
    expect(digitsOf(notes, 'R') + digitsOf(notes, 'T')).toBe('');
  });

  it('settles digits stopped when the leg is removed, and queues a second request behind the first', async () => {
    const notes: MediaNotification[] = [];
    const engine = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 0 });
    cleanup.push(() => engine.close());
    await engine.request('createRoom', { roomId: 'r' });
    await engine.request('addLeg', { roomId: 'r', legId: 'P', kind: 'sim' });
    const first = await engine.request('pressKeys', { legId: 'P', digits: '1' });
    const second = await engine.request('pressKeys', { legId: 'P', digits: '23' });
    // The second starts once the first is done (tick 10): its first key is released at tick 15.
    for (let k = 0; k < 16; k++) engine.tick();
    expect(digitsOf(notes, 'P')).toBe('12');
    expect(played(notes, first.playId)).toMatchObject({ stopped: false });
    await engine.request('removeLeg', { legId: 'P' });
    expect(played(notes, second.playId)).toMatchObject({ stopped: true });
    expect(digitsOf(notes, 'P')).toBe('12');
  });

  it('keeps pressing across a move to another room and to another worker (the pending digits travel with the leg)', async () => {
    const notes: MediaNotification[] = [];
    const one = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 0 });
    const two = new MediaEngine((n) => notes.push(n), { rtpTimeoutMs: 0 });
    cleanup.push(() => one.close(), () => two.close());
    await one.request('createRoom', { roomId: 'a' });
    await one.request('createRoom', { roomId: 'b' });
    await two.request('createRoom', { roomId: 'c' });
    await one.request('addLeg', { roomId: 'a', legId: 'P', kind: 'sim' });
    const { playId } = await one.request('pressKeys', { legId: 'P', digits: '1234' });
    for (let k = 0; k < 8; k++) one.tick();
    await one.request('moveLeg', { legId: 'P', roomId: 'b' });
    for (let k = 0; k < 10; k++) one.tick();
    expect(digitsOf(notes, 'P')).toBe('12');
    const { leg } = await one.handle({ kind: 'request', id: 900, type: 'detachLeg', params: { legId: 'P' } }).then((r) => (r.ok ? (r.result as { leg: never }) : Promise.reject(new Error(r.error))));
    const attached = await two.handle({ kind: 'request', id: 901, type: 'attachLeg', params: { roomId: 'c', leg } });
    expect(attached.ok).toBe(true);
    for (let k = 0; k < 30 && !played(notes, playId); k++) two.tick();
    expect(digitsOf(notes, 'P')).toBe('1234');
    expect(played(notes, playId)).toMatchObject({ stopped: false });
  });
});

/** Keeps the decoder import honest: μ-law round trip of a tone frame stays detectable. */
it('a μ-law round trip keeps the in-band tones detectable', () => {
  const tone = new Int16Array(160 * 10);
  for (let i = 0; i < 800; i++) tone[i] = Math.round(7000 * Math.sin((2 * Math.PI * 852 * i) / 8000) + 9000 * Math.sin((2 * Math.PI * 1336 * i) / 8000));
  const bytes = new Uint8Array(tone.length);
  encodeMulaw(tone, bytes);
  const back = new Int16Array(tone.length);
  decodeMulaw(bytes, back);
  expect(digitsIn(back)).toBe('8');
});
