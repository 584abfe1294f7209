/**
 * The order in which DNS says to try a SIP server's records: NAPTR by order then preference
 * (RFC 3403 §4.1, as RFC 3263 §4.1 uses them), SRV by priority and then, within a priority, a
 * weighted random draw (RFC 2782 "Usage rules"), so that load spreads over equal servers in
 * proportion to their weights while a server of weight 0 is only picked when no weighted one
 * is left (or by the rare draw of 0).
 */
import type { NaptrRecord, SrvRecord } from 'node:dns';

/** NAPTR records, lowest order first and, within one order, lowest preference first. */
export function orderNaptr(records: readonly NaptrRecord[]): NaptrRecord[] {
  return [...records].sort((a, b) => a.order - b.order || a.preference - b.preference);
}

/**
 * SRV records in the order to try them (RFC 2782): priorities ascending; within a priority,
 * repeatedly: put the weight-0 records first, draw a number from 0 to the sum of the weights
 * left (inclusive), take the first record whose running sum reaches it. `random()` is in
 * [0, 1), as Math.random, and is given by tests to fix the draw.
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const ordered: SrvRecord[] = [];
  for (const priority of priorities) {
    const left = records.filter((r) => r.priority === priority).sort((a, b) => Number(a.weight !== 0) - Number(b.weight !== 0));
    while (left.length > 0) {
      const total = left.reduce((sum, r) => sum + r.weight, 0);
      const draw = Math.floor(random() * (total + 1));
      let running = 0;
      const index = left.findIndex((r) => (running += r.weight) >= draw);
      ordered.push(...left.splice(index < 0 ? 0 : index, 1));
    }
  }
  return ordered;
}
