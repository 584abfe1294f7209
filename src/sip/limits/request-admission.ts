/**
 * Whether a new SIP request (one that would start a server transaction) is served, refused
 * with `503 Service Unavailable` and `Retry-After` (RFC 3261 §21.5.4, §20.33), or dropped
 * without a word.
 *
 * Per source address — the host only, not the port: a flood is one machine whatever ports it
 * sends from — each source has a token bucket per kind of request: INVITE, REGISTER, and
 * every other method (BYE, CANCEL, OPTIONS…; ACK never starts a transaction and is not
 * counted). Retransmissions never reach this: the transaction layer absorbs them first.
 * A source over budget gets 503s from a second bucket of the same rate, so a peer that
 * overshoots a little hears why and when to come back; past that (a flood at more than twice
 * its budget) it gets nothing, so that the flood cannot make us send as much as it does. The
 * 503s of all sources together are capped as well (`maxRefusalsPerSecond`): forged source
 * addresses would otherwise turn the refusals into a reflector.
 *
 * A request that would be dropped is best dropped before it is parsed — the parse is most of
 * what a request costs, and a server that parses a flood at full cost falls behind and lets the
 * kernel drop datagrams at random, legitimate ones too. `screen` glances at the first bytes of a
 * message (the method) and drops it unparsed when its source is over budget and out of 503s for
 * that kind of request. The price: such a source loses even the retransmissions of requests it
 * was served, until it slows down — a source sending more than twice its budget is a flood.
 *
 * Trusted sources (a PBX trunk, a proxy in front of Conclave) skip the per-source buckets.
 * Everyone, trusted or not, is held to `maxServerTransactions`: every server transaction
 * lives up to 64*T1 = 32 s after its answer (Timers H, J, L, RFC 3261 §17.2, RFC 6026), so
 * this is what bounds the memory a flood from many addresses can take.
 */
import { AddressList } from './address-list.js';
import { SourceBuckets } from './source-buckets.js';
import { TokenBucket } from './token-bucket.js';

export interface RequestBudgets {
  /** New INVITEs a second from one source; also its burst (default 500; 0: no limit). */
  invitesPerSecond?: number;
  /** New REGISTERs a second from one source (default 20; 0: no limit). */
  registersPerSecond?: number;
  /** Other new requests a second from one source (default: as many as INVITEs). */
  othersPerSecond?: number;
  /** 503s a second for all sources together (default 1000). */
  maxRefusalsPerSecond?: number;
  /** Live server transactions, all sources together (default 50,000; 0: no cap). */
  maxServerTransactions?: number;
  /** Addresses and CIDR blocks no per-source budget applies to. */
  trusted?: readonly string[];
  /** Sources remembered per kind of request; the least recently seen are forgotten (default 65,536). */
  maxSources?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

export const DEFAULT_REQUEST_BUDGETS = {
  invitesPerSecond: 500,
  registersPerSecond: 20,
  maxRefusalsPerSecond: 1000,
  maxServerTransactions: 50_000,
  maxSources: 65_536,
} as const;

/** Why a request was not admitted: its source is over budget, or the transaction table is full. */
export type RefusalCause = 'source-budget' | 'transaction-limit';

export type Admission = { readonly action: 'admit' } | { readonly action: 'refuse' | 'drop'; readonly cause: RefusalCause };

// The verdicts are constants: deciding allocates nothing.
const ADMIT: Admission = Object.freeze({ action: 'admit' });
const REFUSE_OVER_BUDGET: Admission = Object.freeze({ action: 'refuse', cause: 'source-budget' });
const DROP_OVER_BUDGET: Admission = Object.freeze({ action: 'drop', cause: 'source-budget' });
const REFUSE_FULL: Admission = Object.freeze({ action: 'refuse', cause: 'transaction-limit' });
const DROP_FULL: Admission = Object.freeze({ action: 'drop', cause: 'transaction-limit' });

export class RequestAdmission {
  readonly trusted: AddressList;
  // Per kind: the budget, and the 503s a source over it may still get (the same rate); none: no limit.
  private readonly invites: [SourceBuckets, SourceBuckets] | undefined;
  private readonly registers: [SourceBuckets, SourceBuckets] | undefined;
  private readonly others: [SourceBuckets, SourceBuckets] | undefined;
  private readonly refusals: TokenBucket;
  private readonly maxServerTransactions: number;
  private readonly now: () => number;

  constructor(budgets: RequestBudgets = {}) {
    const d = DEFAULT_REQUEST_BUDGETS;
    const invites = budgets.invitesPerSecond ?? d.invitesPerSecond;
    const registers = budgets.registersPerSecond ?? d.registersPerSecond;
    const others = budgets.othersPerSecond ?? invites;
    const maxSources = budgets.maxSources ?? d.maxSources;
    this.now = budgets.now ?? (() => performance.now());
    this.trusted = new AddressList(budgets.trusted);
    const buckets = (rate: number): [SourceBuckets, SourceBuckets] | undefined =>
      rate > 0 ? [new SourceBuckets(rate, Math.max(1, rate), maxSources), new SourceBuckets(rate, Math.max(1, rate), maxSources)] : undefined;
    this.invites = buckets(invites);
    this.registers = buckets(registers);
    this.others = buckets(others);
    const refusals = budgets.maxRefusalsPerSecond ?? d.maxRefusalsPerSecond;
    this.refusals = new TokenBucket(refusals, Math.max(1, refusals), this.now());
    const maxServerTransactions = budgets.maxServerTransactions ?? d.maxServerTransactions;
    this.maxServerTransactions = maxServerTransactions > 0 ? maxServerTransactions : Infinity;
  }

  /**
   * Before the parse: the method of a request from `host` that its budgets would drop anyway
   * (see the file comment), or `undefined` to go on. Responses and ACKs always go on: they
   * start no transaction.
   */
  screen(data: Buffer, host: string): string | undefined {
    let start = 0;
    while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++; // §7.5
    const space = data.indexOf(0x20, start);
    if (space < 0 || space - start > 16) return undefined; // not a request line: the parser decides
    const method = data.toString('latin1', start, space);
    if (method === 'ACK' || method.startsWith('SIP/')) return undefined;
    const kind = method === 'INVITE' ? this.invites : method === 'REGISTER' ? this.registers : this.others;
    if (!kind || this.trusted.has(host)) return undefined;
    const now = this.now();
    return kind[0].available(host, now) || kind[1].available(host, now) ? undefined : method;
  }

  /**
   * The verdict on a request of `method` from `host` that would start a server transaction,
   * with `liveTransactions` server transactions already alive.
   */
  decide(method: string, host: string, liveTransactions: number): Admission {
    const now = this.now();
    if (liveTransactions >= this.maxServerTransactions) return this.refusals.take(now) ? REFUSE_FULL : DROP_FULL;
    if (this.trusted.has(host)) return ADMIT;
    const kind = method === 'INVITE' ? this.invites : method === 'REGISTER' ? this.registers : this.others;
    if (!kind) return ADMIT;
    const [budget, refusals] = kind;
    if (budget.take(host, now)) return ADMIT;
    return refusals.take(host, now) && this.refusals.take(now) ? REFUSE_OVER_BUDGET : DROP_OVER_BUDGET;
  }

  /**
   * The Retry-After of a 503 (RFC 3261 §20.33, in seconds): a source over budget has a full
   * bucket again after a second; the transaction table drains over 64*T1, so come back later.
   * Spread a little, so that the peers refused together do not all return at once.
   */
  retryAfter(cause: RefusalCause): number {
    const base = cause === 'transaction-limit' ? 10 : 1;
    return base + Math.floor(Math.random() * (base + 1));
  }
}
