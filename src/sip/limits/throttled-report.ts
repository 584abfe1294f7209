/**
 * Logging that a flood cannot turn into a flood of log lines: the first event of a quiet
 * spell is told at once, in detail (a single broken phone is still easy to diagnose); the
 * ones that follow within `intervalMs` only bump counters, and when the interval is over one
 * summary says how many there were, of which kinds, from how many sources, and which sources
 * sent most — e.g. "SIP: dropped 9,812 more malformed messages from 5 sources in the last
 * 10 s". An event costs a few map updates; the tables are bounded (`maxSources`).
 */

export interface ReportSummary {
  /** Events after the first one of the interval, all kinds together. */
  count: number;
  /** Of which, per kind (e.g. `answered` / `dropped`). */
  kinds: Record<string, number>;
  /** Distinct sources (counted up to `maxSources`; `sourcesCapped` beyond). */
  sources: number;
  sourcesCapped: boolean;
  /** The sources with most events, most first: `[address, count]`. */
  top: Array<[string, number]>;
  /** The interval, in seconds. */
  seconds: number;
}

export interface ThrottledReportOptions<E> {
  /** The first event of a quiet spell, in detail. */
  first(event: E): void;
  /** The events that followed it within the interval. */
  summary(summary: ReportSummary): void;
  /** Default 10 s. */
  intervalMs?: number;
  /** Sources counted one by one per interval; default 1000. */
  maxSources?: number;
}

export class ThrottledReport<E> {
  private timer: NodeJS.Timeout | undefined;
  private count = 0;
  private readonly kinds = new Map<string, number>();
  private readonly sources = new Map<string, number>();
  private sourcesCapped = false;
  private readonly intervalMs: number;
  private readonly maxSources: number;

  constructor(private readonly options: ThrottledReportOptions<E>) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.maxSources = options.maxSources ?? 1000;
  }

  /** One event from `source` of `kind`; `detail` makes the detailed line when it is the first. */
  note(source: string, kind: string, detail: () => E): void {
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
      this.options.first(detail());
      return;
    }
    this.count++;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    const seen = this.sources.get(source);
    if (seen !== undefined) this.sources.set(source, seen + 1);
    else if (this.sources.size < this.maxSources) this.sources.set(source, 1);
    else this.sourcesCapped = true;
  }

  /** Says what is pending now and stops the timer (shutdown). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.flush();
  }

  private flush(): void {
    this.timer = undefined;
    if (this.count > 0) {
      const top = [...this.sources.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
      this.options.summary({
        count: this.count,
        kinds: Object.fromEntries(this.kinds),
        sources: this.sources.size,
        sourcesCapped: this.sourcesCapped,
        top,
        seconds: Math.round(this.intervalMs / 1000),
      });
    }
    this.count = 0;
    this.kinds.clear();
    this.sources.clear();
    this.sourcesCapped = false;
  }
}

/** `9812` → `9,812`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "5 sources", "1 source", "1,000+ sources". */
export function formatSources(summary: Pick<ReportSummary, 'sources' | 'sourcesCapped'>): string {
  return `${formatCount(summary.sources)}${summary.sourcesCapped ? '+' : ''} source${summary.sources === 1 && !summary.sourcesCapped ? '' : 's'}`;
}
