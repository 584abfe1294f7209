/**
 * The per-source failure budget of the SIP edge (source-failure-budget.ts), on a clock the test
 * sets: ten failures, then refused at once; one failure earned back every 6 s; other sources
 * untouched; the refusals told once a minute per source, with how many there were.
 */
import { describe, expect, it } from 'vitest';
import { SourceFailureBudget } from '../../../src/endpoints/sip/source-failure-budget.js';

function budget(): { failures: SourceFailureBudget; advance(ms: number): void } {
  let now = 1_000_000;
  return { failures: new SourceFailureBudget(() => now), advance: (ms) => (now += ms) };
}

describe('the per-source failure budget', () => {
  it('refuses a source after ten failures, and no other source', () => {
    const { failures } = budget();
    for (let i = 0; i < 10; i++) {
      expect(failures.throttled('203.0.113.9')).toBeUndefined();
      failures.spend('203.0.113.9');
    }
    expect(failures.throttled('203.0.113.9')).toEqual({ report: true, refused: 1 });
    expect(failures.throttled('198.51.100.7')).toBeUndefined();
  });

  it('earns a failure back every 6 s', () => {
    const { failures, advance } = budget();
    for (let i = 0; i < 10; i++) failures.spend('203.0.113.9');
    advance(5_900);
    expect(failures.throttled('203.0.113.9')).toBeDefined();
    advance(200);
    expect(failures.throttled('203.0.113.9')).toBeUndefined();
    failures.spend('203.0.113.9');
    expect(failures.throttled('203.0.113.9')).toBeDefined();
  });

  it('reports a refused source once a minute, with the refusals since the last report', () => {
    const { failures, advance } = budget();
    for (let i = 0; i < 10; i++) failures.spend('203.0.113.9');
    const first = Array.from({ length: 500 }, () => failures.throttled('203.0.113.9'));
    expect(first.filter((t) => t?.report)).toEqual([{ report: true, refused: 1 }]);
    expect(first.at(-1)).toEqual({ report: false, refused: 499 });
    // A minute on, still failing (its refill spent again): the next refusal is reported with the 499 before it.
    advance(60_000);
    for (let i = 0; i < 10; i++) failures.spend('203.0.113.9');
    expect(failures.throttled('203.0.113.9')).toEqual({ report: true, refused: 500 });
  });

  it('never refuses a trusted source (a front relaying many phones), however often it fails', () => {
    const failures = new SourceFailureBudget(() => 0, { exempt: ['192.0.2.5', '198.51.100.0/24'] });
    for (let i = 0; i < 100; i++) {
      failures.spend('192.0.2.5');
      failures.spend('198.51.100.77');
      failures.spend('203.0.113.9');
    }
    expect(failures.throttled('192.0.2.5')).toBeUndefined();
    expect(failures.throttled('198.51.100.77')).toBeUndefined();
    expect(failures.throttled('203.0.113.9')).toEqual({ report: true, refused: 1 });
  });

  it('takes a smaller budget when told', () => {
    const failures = new SourceFailureBudget(() => 0, { burst: 2 });
    failures.spend('203.0.113.9');
    expect(failures.throttled('203.0.113.9')).toBeUndefined();
    failures.spend('203.0.113.9');
    expect(failures.throttled('203.0.113.9')?.report).toBe(true);
  });
});
