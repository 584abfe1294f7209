/**
 * One measured round against one URL with autocannon's programmatic API, in the bench process
 * (the servers run in their own processes). Throughput is completed 2xx responses over the
 * round's wall time; latency percentiles come from every response's own time (autocannon's
 * histogram rounds to whole milliseconds, too coarse for sub-millisecond answers). Any error,
 * timeout or non-2xx answer fails the bench: a fast 401 must never pass for a fast fetch.
 */
import autocannon from 'autocannon';

export interface RoundOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  /** Seconds. */
  duration: number;
}

export interface RoundResult {
  /** Requests per second. */
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Bytes per response, headers included (as autocannon counts them). */
  bytesPerResponse: number;
}

export async function runRound(options: RoundOptions): Promise<RoundResult> {
  const latencies: number[] = [];
  const instance = autocannon(
    {
      url: options.url,
      headers: options.headers,
      connections: options.connections,
      duration: options.duration,
      pipelining: 1,
    },
    () => undefined,
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await new Promise<autocannon.Result>((resolve) => instance.once('done', resolve));
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${options.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts; the measurement is void`,
    );
  }
  const ok = result['2xx'];
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / result.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    bytesPerResponse: ok === 0 ? 0 : result.throughput.total / ok,
  };
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
