/**
 * The media plane's objects and their lifecycle, on real media workers: a leg closes once and
 * says why, and once closed its requests reject with `closed` and its plays settle false; the
 * plane's close and a dying worker cascade to every leg and room, so nothing waits for ever; a
 * room lives while it has members; a full RTP port range refuses at once with
 * `ports-exhausted`. (As mediasoup tests its Producer: close, closed methods, parent closes.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaPlane } from '../../src/endpoints/media/media-plane.js';
import type { LegEnd } from '../../src/endpoints/media/media-leg.js';
import { MediaError } from '../../src/media/media-error.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const LONG = { pcm: new Int16Array(8000 * 60) };

describe('MediaPlane', () => {
  const planes: MediaPlane[] = [];
  const open = (portRange = { min: 42000, max: 42099 }): MediaPlane => {
    const plane = new MediaPlane({ host: '127.0.0.1', portRange, workers: 1, udp: 'dgram' }, quiet);
    planes.push(plane);
    return plane;
  };
  afterEach(async () => {
    for (const plane of planes.splice(0)) await plane.close();
  });

  it('closes a leg once, says why, and then refuses it everything', async () => {
    const plane = open();
    const leg = await plane.openSimLeg('CA1', {}, false);
    expect(plane.leg('CA1')).toBe(leg);
    const told: LegEnd[] = [];
    leg.observer.on('close', (why) => told.push(why));
    const playing = leg.play(LONG);
    await vi.waitFor(() => expect(told).toEqual([]));
    await Promise.all([leg.close(), leg.close()]);
    expect(leg.closed).toBe(true);
    expect(told).toEqual(['hung-up']);
    expect(await leg.ended).toBe('hung-up');
    expect(await playing).toBe(false);
    expect(plane.leg('CA1')).toBeUndefined();
    await expect(leg.setFlags({ muted: true })).rejects.toMatchObject({ code: 'closed' });
    expect(await leg.play(LONG)).toBe(false);
    // The call SID is free again for a new leg.
    expect((await plane.openSimLeg('CA1', {}, false)).closed).toBe(false);
  });

  it('closing the plane closes every leg and room and settles their plays; close is idempotent', async () => {
    const plane = open();
    const a = await plane.openSimLeg('CA1', {}, false);
    const { leg: b } = await plane.openRtpLeg('CA2', { codec: 'PCMU', telephoneEvent: null });
    const room = plane.room('CF1');
    await Promise.all([a.enter(room, {}), b.enter(room, {})]);
    const plays = [a.play(LONG), room.play(LONG)];
    await Promise.all([plane.close(), plane.close()]);
    expect(plane.closed).toBe(true);
    expect([a.closed, b.closed, room.closed]).toEqual([true, true, true]);
    expect(await Promise.all(plays)).toEqual([false, false]);
    expect(await Promise.all([a.ended, b.ended])).toEqual(['hung-up', 'hung-up']);
    await expect(plane.openSimLeg('CA3', {}, false)).rejects.toMatchObject({ code: 'closed' });
  });

  it('a media worker that dies closes every leg (media-failure) and settles pending plays; the next leg starts new workers', async () => {
    const plane = open();
    const leg = await plane.openSimLeg('CA1', {}, false);
    const playing = leg.play(LONG);
    // Fault injection: terminate the worker thread as a crash would end it.
    const client = (plane as unknown as { client: { workers: { worker: { terminate(): Promise<number> } }[] } }).client;
    await client.workers[0]!.worker.terminate();
    expect(await leg.ended).toBe('media-failure');
    expect(await playing).toBe(false);
    const again = await plane.openSimLeg('CA2', {}, false);
    expect(again.closed).toBe(false);
    expect(await again.play({ pcm: new Int16Array(160) })).toBe(true);
  });

  it('a room lives while it has members; one of the same name is made anew after', async () => {
    const plane = open();
    const a = await plane.openSimLeg('CA1', {}, false);
    const b = await plane.openSimLeg('CA2', {}, false);
    const room = plane.room('CF1');
    await a.enter(room, {});
    await b.enter(room, {});
    expect(plane.findRoom('CF1')).toBe(room);
    expect(await room.play({ pcm: new Int16Array(160) })).toBe(true);
    await a.leave();
    expect(room.closed).toBe(false);
    await b.close();
    expect(room.closed).toBe(true);
    expect(plane.findRoom('CF1')).toBeUndefined();
    const next = plane.room('CF1');
    expect(next).not.toBe(room);
    await a.enter(next, {});
    expect(a.room).toBe(next);
  });

  it('refuses an RTP leg at once when the port range is full, and takes one again when a leg closes', async () => {
    const plane = open({ min: 42200, max: 42203 }); // two pairs: 42200/1 and 42202/3
    const first = await plane.openRtpLeg('CA1', { codec: 'PCMU', telephoneEvent: null });
    await plane.openRtpLeg('CA2', { codec: 'PCMU', telephoneEvent: null });
    expect(plane.hasRtpCapacity()).toBe(false);
    const refused = plane.openRtpLeg('CA3', { codec: 'PCMU', telephoneEvent: null });
    await expect(refused).rejects.toBeInstanceOf(MediaError);
    await expect(refused).rejects.toMatchObject({ code: 'ports-exhausted' });
    expect(plane.leg('CA3')).toBeUndefined();
    await first.leg.close();
    expect(plane.hasRtpCapacity()).toBe(true);
    expect((await plane.openRtpLeg('CA3', { codec: 'PCMU', telephoneEvent: null })).local.port).toBe(first.local.port);
  });
});
