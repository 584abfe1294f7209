/**
 * A token bucket (the classic rate limiter: `rate` tokens a second, at most `burst` saved
 * up), for the per-source SIP budgets.
 *
 * Written by hand rather than taken from a rate-limiting package: it runs once per received
 * request in the middle of a flood, so it must be synchronous and allocate nothing (the
 * maintained npm limiters, e.g. rate-limiter-flexible, answer with a promise per call and keep
 * a timer per key), and it is a dozen lines.
 */
export class TokenBucket {
  private tokens: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private last: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one (refilling for the time since the last call). */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token could be taken at `now` (none is). */
  available(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }
}
