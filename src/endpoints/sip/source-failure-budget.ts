/**
 * How often one source address may fail at the SIP edge before it is refused at once (issue 14
 * §2): wrong or replayed digest credentials, a SIP Domain that lets it in no way, a call to a
 * number from outside the carrier networks, a Request-URI host that is no domain here — all
 * spend the same budget, a burst of FAILURE_BURST and then one every 6 s. Past it, the source's
 * requests are refused without a look at the store, while every other source goes on. A SIP
 * port on the internet is scanned for passwords and free calls within minutes of going up.
 *
 * Refusals past the budget are told once a minute per source, never one line a packet: the
 * first refusal of a minute is `report`ed, with how many were refused at once since the last
 * report. The tables are bounded (FAILURE_SOURCES), as a flood from spoofed addresses must not
 * grow them without end.
 *
 * Trusted sources (CONCLAVE_SIP_TRUSTED: a proxy in front, a PBX) are never refused: a front
 * relays every phone's requests from its one address, and one phone's wrong password must not
 * lock out all the others. Such a front throttles failing callers itself.
 */
import { AddressList } from '../../sip/limits/address-list.js';
import { SourceBuckets } from '../../sip/limits/source-buckets.js';

/** The source is out of budget: its request is refused at once. */
export interface Throttled {
  /** True for the first refusal of a minute: log one line for the source. */
  report: boolean;
  /** Requests refused at once since the source was last reported, this one included. */
  refused: number;
}

export interface SourceFailureBudgetOptions {
  /** Failures a source may have before it is refused (default 10). */
  burst?: number;
  /** Failures a second it earns back (default one every 6 s). */
  perSecond?: number;
  /** How often a refused source is reported (default a minute). */
  reportEveryMs?: number;
  /** Addresses and CIDR blocks whose failures are not counted (CONCLAVE_SIP_TRUSTED). */
  exempt?: readonly string[];
}

const FAILURE_BURST = 10;
const FAILURES_PER_SECOND = 1 / 6;
const FAILURE_SOURCES = 10_000;
const REPORT_EVERY_MS = 60_000;

export class SourceFailureBudget {
  private readonly failures: SourceBuckets;
  /** Per throttled source: when it was last reported, and the refusals since. */
  private readonly reported = new Map<string, { at: number; refused: number }>();
  private readonly reportEveryMs: number;
  private readonly exempt: AddressList;

  constructor(
    private readonly now: () => number = Date.now,
    options: SourceFailureBudgetOptions = {},
  ) {
    this.failures = new SourceBuckets(options.perSecond ?? FAILURES_PER_SECOND, options.burst ?? FAILURE_BURST, FAILURE_SOURCES);
    this.reportEveryMs = options.reportEveryMs ?? REPORT_EVERY_MS;
    this.exempt = new AddressList(options.exempt);
  }

  /** Undefined while `source` has failures left; else it is refused at once (and counted). */
  throttled(source: string): Throttled | undefined {
    const now = this.now();
    if (this.failures.available(source, now) || this.exempt.has(source)) return undefined;
    const last = this.reported.get(source);
    if (last !== undefined && now - last.at < this.reportEveryMs) {
      last.refused++;
      return { report: false, refused: last.refused };
    }
    const refused = (last?.refused ?? 0) + 1;
    if (this.reported.size >= FAILURE_SOURCES) this.reported.clear();
    this.reported.set(source, { at: now, refused: 0 });
    return { report: true, refused };
  }

  /** One failure of `source`. */
  spend(source: string): void {
    if (this.exempt.has(source)) return;
    this.failures.take(source, this.now());
  }
}
