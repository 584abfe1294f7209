/** The order DNS says to try SIP servers in: NAPTR order/preference, SRV priority then weight (RFC 2782). */
import type { SrvRecord } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { orderNaptr, orderSrv } from '../../../src/sip/dns/dns-record-order.js';

const srv = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 5060, priority, weight });
const naptr = (replacement: string, order: number, preference: number) => ({ flags: 's', service: 'SIP+D2U', regexp: '', replacement, order, preference });

/** A fixed sequence of draws in [0, 1), as Math.random would give. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('NAPTR order (RFC 3403 §4.1)', () => {
  it('tries the lowest order first, then within one order the lowest preference', () => {
    const ordered = orderNaptr([naptr('c', 20, 10), naptr('b', 10, 60), naptr('a', 10, 50), naptr('d', 20, 5)]);
    expect(ordered.map((r) => r.replacement)).toEqual(['a', 'b', 'd', 'c']);
  });
});

describe('SRV order (RFC 2782 usage rules)', () => {
  it('tries every record of a lower priority before any of a higher one, whatever the weights', () => {
    const ordered = orderSrv([srv('backup', 20, 100), srv('main-b', 10, 1), srv('main-a', 10, 1)], draws(0.99, 0.99, 0.99));
    expect(ordered.map((r) => r.name).slice(0, 2).sort()).toEqual(['main-a', 'main-b']);
    expect(ordered[2]!.name).toBe('backup');
  });

  it('draws within a priority by weight: the draw picks the first record whose running sum reaches it', () => {
    const records = [srv('light', 10, 10), srv('heavy', 10, 90)];
    // Sum 100: a draw of 0..10 reaches `light`'s running sum, 11..100 only `heavy`'s.
    expect(orderSrv(records, draws(0.05)).map((r) => r.name)).toEqual(['light', 'heavy']);
    expect(orderSrv(records, draws(0.5)).map((r) => r.name)).toEqual(['heavy', 'light']);
  });

  it('spreads first picks in proportion to the weights over many draws', () => {
    const records = [srv('a', 1, 25), srv('b', 1, 75)];
    let first = 0;
    const runs = 4000;
    for (let i = 0; i < runs; i++) if (orderSrv(records)[0]!.name === 'b') first++;
    // 75 % expected; 4000 draws put 3 standard deviations at ±2 %.
    expect(first / runs).toBeGreaterThan(0.7);
    expect(first / runs).toBeLessThan(0.8);
  });

  it('puts a weight-0 record after the weighted ones unless the draw is 0', () => {
    const records = [srv('weighted', 10, 5), srv('zero', 10, 0)];
    expect(orderSrv(records, draws(0.5)).map((r) => r.name)).toEqual(['weighted', 'zero']);
    expect(orderSrv(records, draws(0)).map((r) => r.name)).toEqual(['zero', 'weighted']);
    expect(orderSrv([srv('x', 1, 0), srv('y', 1, 0)], draws(0.7)).map((r) => r.name)).toHaveLength(2);
  });

  it('keeps every record exactly once', () => {
    const records = Array.from({ length: 12 }, (_, i) => srv(`s${i}`, i % 3, i));
    const ordered = orderSrv(records);
    expect(ordered.map((r) => r.name).sort()).toEqual(records.map((r) => r.name).sort());
    expect(ordered.map((r) => r.priority)).toEqual([...ordered.map((r) => r.priority)].sort((a, b) => a - b));
  });
});
