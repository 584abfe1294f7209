/**
 * A deterministic clock for the transaction state machines: timers fire only when a test
 * advances time, in due order, including timers set while others fire.
 */
import type { CancelTimer, SipTimers } from '../../../src/sip/transaction/timing.js';

interface Entry {
  at: number;
  seq: number;
  fire: () => void;
}

export class ManualTimers implements SipTimers {
  now = 0;
  private seq = 0;
  private readonly entries = new Set<Entry>();

  set(delayMs: number, fire: () => void): CancelTimer {
    const entry = { at: this.now + delayMs, seq: this.seq++, fire };
    this.entries.add(entry);
    return () => this.entries.delete(entry);
  }

  get pending(): number {
    return this.entries.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = [...this.entries].filter((e) => e.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.entries.delete(next);
      this.now = next.at;
      next.fire();
    }
    this.now = until;
  }

  /** Fires timers until none are left (bounded, in case of a timer that re-arms forever). */
  runAll(maxMs = 10 * 60_000): void {
    this.advance(maxMs);
  }
}
