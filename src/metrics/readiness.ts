/**
 * Readiness (`/readyz`): whether this node can take calls now — its database answers, its media
 * workers run, its SIP listener is bound. Each check is a promise given a short time; the
 * report names every check and the reason of any failure, so a 503 says what to look at.
 */

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; rejects (or takes longer than the timeout) with the reason when not. */
  check(): Promise<void>;
}

export interface CheckResult {
  status: 'ok' | 'failed';
  reason?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** Long enough for a loaded database's `select 1`, short enough for a probe's own timeout (k8s: 1 s by default). */
export const READINESS_TIMEOUT_MS = 800;

export class Readiness {
  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly timeoutMs = READINESS_TIMEOUT_MS,
  ) {}

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map((c) => this.run(c)));
    const checks = Object.fromEntries(this.checks.map((c, i) => [c.name, results[i]!]));
    return { ready: results.every((r) => r.status === 'ok'), checks };
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([check.check(), late]);
      return { status: 'ok' };
    } catch (error) {
      return { status: 'failed', reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
