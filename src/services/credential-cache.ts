/**
 * A short-lived memory of verified credentials, so that a busy client does not cost a store
 * read and two hashes on every request. Entries live `ttlMs` (default 2 s); this node forgets
 * everything at once when an account or a key changes here, and other nodes (sharing
 * PostgreSQL) see a change within the TTL — the same eventual consistency Twilio documents for
 * credential changes. Bounded: when full, the oldest entry goes.
 */
import type { Principal } from './authenticate.js';

export class CredentialCache {
  private readonly entries = new Map<string, { principal: Principal; expires: number }>();

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The principal remembered for this exact Authorization header, if still fresh. */
  get(authorization: string): Principal | undefined {
    const entry = this.entries.get(authorization);
    if (!entry) return undefined;
    if (entry.expires > this.now()) return entry.principal;
    this.entries.delete(authorization);
    return undefined;
  }

  remember(authorization: string, principal: Principal): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(authorization, { principal, expires: this.now() + this.ttlMs });
  }

  /** An account or key changed: nothing remembered may be trusted any more. */
  clear(): void {
    this.entries.clear();
  }
}
