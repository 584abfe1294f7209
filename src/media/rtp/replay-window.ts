/**
 * The receiver's replay list (RFC 3711 §3.3.2): packets whose index was already accepted, or
 * that are older than the window, are dropped. A ring of the last WINDOW indices by slot
 * (index mod WINDOW) holds the same information as the RFC's bitmap without shifting, and
 * allocates nothing per packet. 128 packets is 2.56 s of 20 ms audio (§3.3.2 asks for ≥ 64).
 */
const WINDOW = 128;

export class ReplayWindow {
  /** The highest index accepted, or -1 before the first. */
  highest = -1;
  private readonly seen = new Float64Array(WINDOW).fill(-1);

  /** True when `index` (a 48-bit SRTP or 31-bit SRTCP index) is new and not too old. */
  check(index: number): boolean {
    if (index > this.highest) return true;
    if (index < 0 || this.highest - index >= WINDOW) return false;
    return this.seen[index % WINDOW] !== index;
  }

  /** Records an authenticated packet's index (call only after `check` and authentication pass). */
  accept(index: number): void {
    this.seen[index % WINDOW] = index;
    if (index > this.highest) this.highest = index;
  }
}
