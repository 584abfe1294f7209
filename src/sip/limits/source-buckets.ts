/**
 * One token bucket per source address, in a table of bounded size: a flood from many
 * (spoofed) addresses must not grow it without end. The table is kept in least-recently-used
 * order (a JavaScript Map iterates in insertion order, so a source is moved to the end when it
 * is seen); when it is full, the source seen longest ago is forgotten — it starts again with a
 * full bucket if it comes back, which is what it would have after a quiet spell anyway.
 */
import { TokenBucket } from './token-bucket.js';

export class SourceBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    /** Tokens a second for each source. */
    private readonly rate: number,
    /** Tokens a source may save up (its burst). */
    private readonly burst: number,
    private readonly maxSources: number,
  ) {}

  /** Sources currently remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Whether `source` has a token left (a source not remembered has a full bucket); takes none. */
  available(source: string, now: number): boolean {
    return this.buckets.get(source)?.available(now) ?? true;
  }

  /** Takes one token from `source`'s bucket; false when it is empty. */
  take(source: string, now: number): boolean {
    let bucket = this.buckets.get(source);
    if (bucket) {
      this.buckets.delete(source);
    } else {
      bucket = new TokenBucket(this.rate, this.burst, now);
      if (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(source, bucket);
    return bucket.take(now);
  }
}
