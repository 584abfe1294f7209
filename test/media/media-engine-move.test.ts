/**
 * Legs that change rooms or streams mid-call, over loopback UDP: moveLeg carries a leg (socket,
 * SSRC, sequence numbers, players) into another room where it hears and is heard by the new
 * room only; a peer that restarts its RTP stream keeps being heard within a few frames; a codec
 * set with setRemote (the SDP answer) applies both ways.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ToneSource } from './goertzel.js';
import { EngineHarness, absent, present } from './engine-harness.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const TONES = { A: 400, B: 650, C: 1000, D: 1500, X: 1800, E: 2600 } as const;

function tonePcm(hz: number, samples: number, amplitude = 6000): Int16Array {
  const src = new ToneSource(hz, amplitude, samples);
  return Int16Array.from(src.pop());
}

describe('moveLeg', () => {
  it('moves a leg with its socket and players into another room, where only that room hears it', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r1', 'r2', 'r3');
    await h.addPeer('r1', 'A', TONES.A);
    await h.addPeer('r1', 'B', TONES.B);
    await h.addPeer('r2', 'C', TONES.C);
    await h.addPeer('r2', 'D', TONES.D);
    await h.addPeer('r3', 'E', TONES.E);
    const x = await h.addPeer('r1', 'X', TONES.X);
    // A looped per-leg player (2200 Hz) must follow the leg.
    await h.engine.request('play', { target: { legId: 'X' }, sound: { pcm: tonePcm(2200, 8000) }, loop: true });
    await h.step(8);
    expect(h.notes).toContainEqual({ kind: 'notify', type: 'talking', legId: 'X', talking: true });
    for (const hz of [TONES.A, TONES.B, 2200]) expect(present(h.heard('X'), hz)).toBe(true);
    for (const hz of [TONES.C, TONES.D]) expect(absent(h.heard('X'), hz)).toBe(true);
    expect(present(h.heard('A'), TONES.X)).toBe(true);

    // Deaf in r1; the move resets flags to the defaults.
    await h.engine.request('setLeg', { legId: 'X', canHear: false });
    await h.step(1);
    expect(absent(h.heard('X'), TONES.A)).toBe(true);

    const rtp = h.engine.rtpLegOf('X')!;
    const localPort = rtp.localPort;
    const headersBefore = x.headers.length;
    await h.engine.request('moveLeg', { legId: 'X', roomId: 'r2' });
    expect(h.notes).toContainEqual({ kind: 'notify', type: 'talking', legId: 'X', talking: false });
    await h.step(3);
    for (const hz of [TONES.C, TONES.D, 2200]) expect(present(h.heard('X'), hz), `X hears ${hz}`).toBe(true);
    for (const hz of [TONES.A, TONES.B]) expect(absent(h.heard('X'), hz), `X does not hear ${hz}`).toBe(true);
    for (const id of ['C', 'D'] as const) expect(present(h.heard(id), TONES.X)).toBe(true);
    for (const id of ['A', 'B'] as const) expect(absent(h.heard(id), TONES.X)).toBe(true);

    // Same socket, same RTP stream: one SSRC, consecutive sequence numbers across the move.
    expect(h.engine.rtpLegOf('X')).toBe(rtp);
    const hdrs = x.headers.slice(headersBefore - 2);
    for (let i = 0; i < hdrs.length; i++) {
      expect(hdrs[i]!.fromPort).toBe(localPort);
      expect(hdrs[i]!.ssrc).toBe(rtp.ssrc);
      if (i > 0) expect((hdrs[i]!.seq - hdrs[i - 1]!.seq) & 0xffff).toBe(1);
    }
    const stats = await h.engine.request('stats', {});
    expect(stats.legs.find((l) => l.legId === 'X')!.roomId).toBe('r2');

    // Destroying the old room closes its own legs, not the moved one.
    await h.engine.request('destroyRoom', { roomId: 'r1' });
    const closed = h.notes.filter((n) => n.type === 'legClosed').map((n) => n.type === 'legClosed' && `${n.legId}@${n.roomId}`);
    expect(closed.sort()).toEqual(['A@r1', 'B@r1']);
    await h.step(2);
    expect(present(h.heard('X'), TONES.C)).toBe(true);

    // Moving on with flags: muted in r3, it hears E but E does not hear it.
    await h.engine.request('moveLeg', { legId: 'X', roomId: 'r3', flags: { muted: true } });
    await h.step(2);
    expect(present(h.heard('X'), TONES.E)).toBe(true);
    expect(absent(h.heard('X'), TONES.C)).toBe(true);
    expect(absent(h.heard('E'), TONES.X)).toBe(true);
    expect(absent(h.heard('C'), TONES.X)).toBe(true);

    await h.engine.request('removeLeg', { legId: 'X' });
    expect(h.notes).toContainEqual({ kind: 'notify', type: 'legClosed', legId: 'X', roomId: 'r3', reason: 'removed' });
  });

  it('a leg moved out while its old room is being destroyed survives; no move into that room', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r1', 'r2');
    for (const legId of ['a', 'x', 'b']) await h.engine.request('addLeg', { roomId: 'r1', legId, kind: 'sim' });
    await h.engine.request('addLeg', { roomId: 'r2', legId: 'y', kind: 'sim' });
    // destroyRoom closes `a` and yields; both moves run before it goes on to `x`.
    const destroying = h.engine.request('destroyRoom', { roomId: 'r1' });
    const into = h.engine.request('moveLeg', { legId: 'y', roomId: 'r1' });
    const out = h.engine.request('moveLeg', { legId: 'x', roomId: 'r2' });
    await expect(into).rejects.toThrow(/no room r1/);
    await out;
    await destroying;
    const closed = h.notes.flatMap((n) => (n.type === 'legClosed' ? [`${n.legId}@${n.roomId}`] : []));
    expect(closed).toEqual(['a@r1', 'b@r1']);
    const stats = await h.engine.request('stats', {});
    expect(stats.legs.map((l) => `${l.legId}@${l.roomId}`).sort()).toEqual(['x@r2', 'y@r2']);
    expect(stats.rooms).toBe(1);
  });

  it('rejects a move to an unknown room and of an unknown leg, leaving the leg in place', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r1');
    await h.engine.request('addLeg', { roomId: 'r1', legId: 's', kind: 'sim' });
    await expect(h.engine.request('moveLeg', { legId: 's', roomId: 'nope' })).rejects.toThrow(/no room nope/);
    await expect(h.engine.request('moveLeg', { legId: 'nope', roomId: 'r1' })).rejects.toThrow(/no leg nope/);
    const stats = await h.engine.request('stats', {});
    expect(stats.legs.map((l) => `${l.legId}@${l.roomId}`)).toEqual(['s@r1']);
  });
});

describe('RTP stream restart mid-call', () => {
  for (const change of ['new SSRC', 'same SSRC, jumped seq and timestamp'] as const) {
    it(`keeps a peer heard after a restart with ${change}`, async () => {
      const h = new EngineHarness(cleanup);
      await h.createRooms('r');
      const a = await h.addPeer('r', 'A', TONES.A);
      await h.addPeer('r', 'L', null);
      await h.step(4);
      expect(present(h.heard('L'), TONES.A)).toBe(true);

      // The peer (e.g. after a re-INVITE or a media server failover) starts a new stream, now
      // carrying another tone so what L hears shows which stream is played.
      a.restart(change === 'new SSRC' ? 0xdead_beef : 1000 + TONES.A, TONES.C); // 1000 + hz: RtpPeer's SSRC
      let frames = 0;
      while (frames < 3 && !present(h.heard('L'), TONES.C)) {
        await h.step(1);
        frames++;
      }
      expect(present(h.heard('L'), TONES.C), `heard after ${frames} frames`).toBe(true);
      await h.step(5);
      for (const f of Array.from({ length: 5 }, (_, i) => h.peers.get('L')!.received.at(-1 - i)!)) {
        expect(present(f, TONES.C)).toBe(true);
        expect(absent(f, TONES.A)).toBe(true);
      }
      const jb = h.engine.rtpLegOf('A')!.jitterBuffer.stats;
      if (change === 'new SSRC') expect(jb.ssrcChanges).toBe(1);
      else expect(jb.resyncs).toBe(1);
    });
  }
});

describe('setRemote with a codec', () => {
  it('switches an offered PCMU leg to the answered PCMA both ways', async () => {
    const h = new EngineHarness(cleanup);
    await h.createRooms('r');
    await h.addPeer('r', 'A', TONES.A);
    // B speaks PCMA while its leg still expects the offer's PCMU: nothing of B is played yet.
    const b = await h.addPeer('r', 'B', TONES.B, { codec: 'PCMU' }, 'PCMA');
    const rtpB = h.engine.rtpLegOf('B')!;
    await h.arrived(() => rtpB.stats.otherPayloadType === 2, 'B priming dropped');
    await h.engine.request('setRemote', { legId: 'B', address: '127.0.0.1', port: b.port, codec: 'PCMA' });
    expect(rtpB.codec).toBe('PCMA');
    h.prime('B');
    await h.step(3);
    expect(present(h.heard('A'), TONES.B)).toBe(true);
    expect(present(h.heard('B'), TONES.A)).toBe(true); // decoded as A-law by the peer
    expect(b.headers.at(-1)!.payloadType).toBe(8);
    expect(rtpB.jitterBuffer.stats.lost).toBe(0);
    await expect(h.engine.request('setRemote', { legId: 'B', address: '127.0.0.1', port: b.port, codec: 'G729' as 'PCMA' })).rejects.toThrow(/unknown codec/);
  });
});
