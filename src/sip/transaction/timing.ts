/**
 * Transaction timer values and the injected timer service (RFC 3261 §17.1.1.1, Table 4 of
 * Appendix A): T1 = 500 ms round-trip estimate, T2 = 4 s cap on non-INVITE retransmission
 * intervals, T4 = 5 s time a message stays in the network.
 *
 * Timers are injected so the state machines never touch the global clock: production passes
 * `realTimers`, tests pass a manual clock and step time deterministically.
 */

export interface SipTimerConfig {
  t1: number;
  t2: number;
  t4: number;
}

export const DEFAULT_TIMING: Readonly<SipTimerConfig> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

export interface SipTimers {
  set(delayMs: number, fire: () => void): CancelTimer;
}

/** Timers over `setTimeout`, unref'd so pending transactions never keep the process alive. */
export const realTimers: SipTimers = {
  set(delayMs, fire) {
    const handle = setTimeout(fire, delayMs);
    handle.unref();
    return () => clearTimeout(handle);
  },
};
