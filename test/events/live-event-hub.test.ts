/**
 * The live event stream's resumption window (events/live-event-hub.ts): a Last-Event-ID still
 * in the account's window replays exactly what came after it; one whose successors left the
 * window (by size or by age) gets `reset` with the id to go on from, never a silent gap.
 */
import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/domain/live-event.js';
import { LiveEventHub, type LiveEventSubscriber, type NumberedLiveEvent } from '../../src/events/live-event-hub.js';

function recorder(): LiveEventSubscriber & { got: string[]; resets: string[] } {
  const got: string[] = [];
  const resets: string[] = [];
  return {
    got,
    resets,
    event: (n: NumberedLiveEvent) => void got.push(n.id),
    replay: (missed: NumberedLiveEvent[]) => void got.push(...missed.map((n) => n.id)),
    reset: (latestId: string) => void resets.push(latestId),
  };
}

const event = (accountSid: string, callSid: string): LiveEvent => ({ name: 'call', accountSid, callSid, data: { CallSid: callSid, CallStatus: 'ringing' } });

describe('the live event window', () => {
  it('replays what came after Last-Event-ID, of the account and the filter only, then goes on live', () => {
    const hub = new LiveEventHub();
    hub.publish(event('AC1', 'CA1'));
    const first = hub.latestId;
    hub.publish(event('AC2', 'CA9'));
    hub.publish(event('AC1', 'CA2'));
    hub.publish(event('AC1', 'CA1'));
    const all = recorder();
    const ofCa1 = recorder();
    hub.subscribe('AC1', {}, all, first);
    hub.subscribe('AC1', { callSid: 'CA1' }, ofCa1, first);
    hub.publish(event('AC1', 'CA1'));
    const seq = (ids: string[]): number[] => ids.map((id) => Number(id.split('-')[1]));
    expect(seq(all.got)).toEqual([3, 4, 5]);
    expect(seq(ofCa1.got)).toEqual([4, 5]);
    expect(all.resets).toEqual([]);
  });

  it('says reset when the events after the id left the window by size or by age, or the id is not this run', () => {
    let now = 0;
    const hub = new LiveEventHub({ windowBytes: 400, windowMs: 60_000, now: () => now });
    hub.publish(event('AC1', 'CA1'));
    const old = hub.latestId;
    for (let i = 0; i < 10; i++) hub.publish(event('AC1', 'CA1'));
    const bySize = recorder();
    hub.subscribe('AC1', {}, bySize, old);
    expect(bySize.resets).toEqual([hub.latestId]);
    expect(bySize.got).toEqual([]);

    const recent = hub.latestId;
    hub.publish(event('AC1', 'CA1'));
    now = 120_000;
    const byAge = recorder();
    hub.subscribe('AC1', {}, byAge, recent);
    expect(byAge.resets).toHaveLength(1);

    const stranger = recorder();
    hub.subscribe('AC1', {}, stranger, `${new LiveEventHub().boot}-1`);
    expect(stranger.resets).toHaveLength(1);
  });
});
