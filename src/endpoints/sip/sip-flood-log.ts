/**
 * The SIP edge's log lines for what a flood multiplies — malformed messages, requests refused
 * over budget, TCP connections refused, calls to numbers nobody owns, calls refused for their
 * source (outside the carrier networks, or to a domain not here) — each through a
 * ThrottledReport: the first of a quiet spell is logged as before, in detail; those that
 * follow within 10 s cost a counter, and one summary line tells them ("SIP: dropped 9,812
 * more malformed messages from 5 sources in the last 10 s"), with the busiest sources, so that
 * an operator can still see who to block.
 */
import type { RefusalCause } from '../../sip/limits/request-admission.js';
import { formatCount, formatSources, ThrottledReport, type ReportSummary } from '../../sip/limits/throttled-report.js';
import type { SipDestination } from '../../sip/transaction/transport.js';

export interface SipFloodLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

type Line = [object, string];

export class SipFloodLog {
  private readonly malformedReport: ThrottledReport<Line>;
  private readonly refusedReport: ThrottledReport<Line>;
  private readonly connectionReport: ThrottledReport<Line>;
  private readonly unroutedReport: ThrottledReport<Line>;
  private readonly strangerReport: ThrottledReport<Line>;
  private readonly domainReport: ThrottledReport<Line>;

  constructor(logger: SipFloodLogger, intervalMs = 10_000) {
    const report = (level: 'info' | 'warn', summary: (s: ReportSummary) => string): ThrottledReport<Line> =>
      new ThrottledReport<Line>({
        intervalMs,
        first: ([fields, message]) => logger[level](fields, message),
        summary: (s) => logger[level]({ count: s.count, kinds: s.kinds, sources: s.sources, top: s.top }, summary(s)),
      });
    this.malformedReport = report('warn', (s) => `SIP: ${formatCount(s.count)} more malformed messages (${kinds(s)}) from ${formatSources(s)} in the last ${s.seconds} s`);
    this.refusedReport = report('warn', (s) => `SIP: ${formatCount(s.count)} more requests over the limits (${kinds(s)}) from ${formatSources(s)} in the last ${s.seconds} s`);
    this.connectionReport = report('warn', (s) => `SIP: ${formatCount(s.count)} more TCP connections refused (${kinds(s)}) from ${formatSources(s)} in the last ${s.seconds} s`);
    this.unroutedReport = report('info', (s) => `SIP: ${formatCount(s.count)} more calls to numbers nothing answers to, from ${formatSources(s)} in the last ${s.seconds} s`);
    this.strangerReport = report('warn', (s) => `SIP: ${formatCount(s.count)} more calls refused for where they came from (${kinds(s)}) from ${formatSources(s)} in the last ${s.seconds} s`);
    this.domainReport = report('info', (s) => `SIP: ${formatCount(s.count)} more requests to SIP Domains refused (${kinds(s)}) from ${formatSources(s)} in the last ${s.seconds} s`);
  }

  /** A message that did not parse (`answered`: a 4xx/5xx went back; `closed`: its TCP connection was dropped). */
  malformed(error: string, source: SipDestination, answered: boolean, closed: boolean): void {
    this.malformedReport.note(source.host, answered ? 'answered' : 'dropped', () => [{ error, source, answered, closed }, 'SIP: malformed message']);
  }

  /** A request refused with 503 (`refuse`) or dropped — parsed or not — by the per-source budgets or the transaction cap. */
  refused(method: string, source: SipDestination, action: 'refuse' | 'drop', cause: RefusalCause): void {
    const kind = `${method} ${action === 'refuse' ? 'answered 503' : 'dropped'}`;
    this.refusedReport.note(source.host, kind, () => {
      const why = cause === 'source-budget' ? `over the budget of ${source.host}` : 'the transaction table is full';
      return [{ method, source, action, cause }, `SIP: ${kind}: ${why}`];
    });
  }

  /** An inbound TCP connection closed at once: too many from its address, or in all. */
  connectionRefused(source: SipDestination, limit: 'source' | 'total'): void {
    const why = limit === 'source' ? `${source.host} has as many TCP connections as one address may` : 'there are as many TCP connections as allowed';
    this.connectionReport.note(source.host, limit === 'source' ? 'per address' : 'in all', () => [{ source, limit }, `SIP: TCP connection refused: ${why}`]);
  }

  /** An INVITE for a user no number answers to (it got 404). */
  unrouted(user: string, from: string, source: SipDestination): void {
    this.unroutedReport.note(source.host, 'not found', () => [{ user, from, source }, `SIP: nothing answers to ${user}`]);
  }

  /** An INVITE to a number from a source outside the carrier networks (it got 403). */
  outsideCarriers(user: string, from: string, source: SipDestination): void {
    this.strangerReport.note(source.host, 'outside the carrier networks 403', () => [{ user, from, source }, `SIP: a call to ${user} from ${source.host}, outside the carrier networks, was refused (403)`]);
  }

  /**
   * A request to a SIP Domain refused 403 by its guard: an INVITE the domain lets in no way from
   * there (or wrong credentials), a REGISTER to a domain that is no registrar (or wrong
   * credentials). Scanners send these by the thousand.
   */
  domainRefused(method: 'INVITE' | 'REGISTER', domain: string, source: SipDestination): void {
    this.domainReport.note(source.host, `${method} 403`, () => [{ method, domain, source }, `SIP: ${method === 'INVITE' ? 'a call to' : 'a REGISTER to'} the SIP Domain ${domain} from ${source.host} was refused (403): no mapping lets it in from there, or its credentials were wrong`]);
  }

  /** An INVITE from outside the carrier networks whose Request-URI host is no SIP Domain here (it got 404). */
  unknownDomain(host: string, from: string, source: SipDestination): void {
    this.strangerReport.note(source.host, 'no such domain 404', () => [{ host, from, source }, `SIP: a call to ${host}, no SIP Domain here, from ${source.host} was refused (404)`]);
  }

  /** Logs what is still counted (shutdown). */
  close(): void {
    for (const report of [this.malformedReport, this.refusedReport, this.connectionReport, this.unroutedReport, this.strangerReport, this.domainReport]) report.close();
  }
}

/** `dropped 9,800, answered 12`. */
function kinds(summary: ReportSummary): string {
  return Object.entries(summary.kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${formatCount(n)}`)
    .join(', ');
}
