/**
 * A least-recently-used cache of decoded sounds, bounded by the total number of samples held.
 *
 * Why hand-written here: both `<Say>` (the same prompt is spoken to every caller who joins) and
 * `<Play>` (Twilio caches media URLs) want to keep decoded audio, and what must be bounded is
 * memory, i.e. samples, not entries — one 10-minute hold track weighs as much as a thousand
 * short prompts. A JavaScript Map iterates in insertion order, so re-inserting on every hit makes
 * its first key the least recently used; that is all an LRU needs, no dependency required.
 *
 * Cached arrays are shared by every caller: treat them as read-only.
 */

export class SampleCache {
  private readonly entries = new Map<string, Int16Array>();
  private total = 0;

  /** `maxSamples` bounds the sum of the cached arrays' lengths (2 bytes each). */
  constructor(readonly maxSamples: number) {
    if (!(maxSamples >= 0)) throw new RangeError(`SampleCache: maxSamples must be ≥ 0 (got ${maxSamples})`);
  }

  /** The cached sound, now most recently used, or undefined. */
  get(key: string): Int16Array | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Stores `value`, evicting the least recently used entries until the bound holds. A value
   * larger than the whole bound is not stored (it would evict everything and then itself).
   */
  set(key: string, value: Int16Array): void {
    this.delete(key);
    if (value.length > this.maxSamples) return;
    this.entries.set(key, value);
    this.total += value.length;
    while (this.total > this.maxSamples) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): boolean {
    const value = this.entries.get(key);
    if (value === undefined) return false;
    this.entries.delete(key);
    this.total -= value.length;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Number of cached sounds. */
  get size(): number {
    return this.entries.size;
  }

  /** Total samples held. */
  get samples(): number {
    return this.total;
  }
}
