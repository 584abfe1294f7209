/**
 * Failed logins, counted per client address and per account over a sliding minute, as OWASP's
 * Authentication Cheat Sheet advises ("Login Throttling"). A client address over its limit is
 * refused before its credentials are looked at. An account (or API key) over its limit is
 * refused only to addresses that have not logged in to it successfully in the last day: a
 * guessing attack spread over many addresses then cannot lock out the servers that already use
 * the account — the denial of service the same sheet warns account lockout invites. Below the
 * account's limit, one address's failures never touch another address's logins.
 *
 * Every username counts, known or not, so that being throttled reveals nothing about which
 * accounts exist. Written here rather than with rate-limiter-flexible: its memory store keeps a
 * record and a timer per key with no bound on their number, and here the keys are chosen by
 * whoever is guessing (any address, any username); this one keeps at most MAX_KEYS of each,
 * forgetting the least recently failed first, and says when the oldest counted failure leaves the
 * window (for `Retry-After`).
 */

export const LOGIN_WINDOW_MS = 60_000;
/** How long a successful login makes an address known to an account. */
const KNOWN_FOR_MS = 86_400_000;
const MAX_KEYS = 10_000;
const MAX_KNOWN_PER_ACCOUNT = 64;

/** A sliding-window log of failure times per key, bounded in keys and in entries per key. */
class FailureLog {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly limit: number) {}

  /** Milliseconds until `key` is under its limit again; 0 when it is. */
  wait(key: string, now: number): number {
    if (this.limit === 0) return 0;
    const times = this.times.get(key);
    if (!times) return 0;
    while (times.length > 0 && times[0]! <= now - LOGIN_WINDOW_MS) times.shift();
    if (times.length === 0) this.times.delete(key);
    return times.length >= this.limit ? times[0]! + LOGIN_WINDOW_MS - now : 0;
  }

  add(key: string, now: number): void {
    if (this.limit === 0) return;
    const times = this.times.get(key) ?? [];
    this.times.delete(key); // re-inserted last: the map is ordered by the latest failure
    if (this.times.size >= MAX_KEYS) this.times.delete(this.times.keys().next().value!);
    times.push(now);
    if (times.length > this.limit) times.shift();
    this.times.set(key, times);
  }
}

export interface LoginRefusal {
  /** Whole seconds until a retry may be checked (at least 1). */
  retryAfterSeconds: number;
  /** Which limit refused it. */
  by: 'address' | 'account';
}

export class LoginThrottle {
  private readonly byAddress: FailureLog;
  private readonly byAccount: FailureLog;
  /** Per account: the addresses that logged in to it, and when they last did. */
  private readonly known = new Map<string, Map<string, number>>();

  constructor(
    limits: { perAddress: number; perAccount: number },
    private readonly now: () => number = () => performance.now(),
  ) {
    this.byAddress = new FailureLog(limits.perAddress);
    this.byAccount = new FailureLog(limits.perAccount);
  }

  /**
   * Whether a request from `address` may go on (to check the credentials for `username`, when
   * given); a refusal says for how long not.
   */
  check(address: string, username?: string): LoginRefusal | undefined {
    const now = this.now();
    const addressWait = this.byAddress.wait(address, now);
    if (addressWait > 0) return { retryAfterSeconds: seconds(addressWait), by: 'address' };
    if (username === undefined) return undefined;
    const account = accountKey(username);
    const accountWait = this.byAccount.wait(account, now);
    if (accountWait > 0 && !this.isKnown(account, address, now)) return { retryAfterSeconds: seconds(accountWait), by: 'account' };
    return undefined;
  }

  failed(address: string, username: string): void {
    const now = this.now();
    this.byAddress.add(address, now);
    this.byAccount.add(accountKey(username), now);
  }

  succeeded(address: string, username: string): void {
    const account = accountKey(username);
    const addresses = this.known.get(account) ?? new Map<string, number>();
    this.known.delete(account);
    if (this.known.size >= MAX_KEYS) this.known.delete(this.known.keys().next().value!);
    addresses.delete(address);
    if (addresses.size >= MAX_KNOWN_PER_ACCOUNT) addresses.delete(addresses.keys().next().value!);
    addresses.set(address, this.now());
    this.known.set(account, addresses);
  }

  private isKnown(account: string, address: string, now: number): boolean {
    const since = this.known.get(account)?.get(address);
    return since !== undefined && now - since < KNOWN_FOR_MS;
  }
}

/** SIDs are case-insensitive hex; a huge username counts as its first 64 characters. */
function accountKey(username: string): string {
  return username.slice(0, 64).toLowerCase();
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
