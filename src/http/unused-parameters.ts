/**
 * Parameters Twilio documents that Conclave reads and checks but does not act on yet — the
 * recording callbacks, channels and trimming until recordings exist. A Twilio app sends them
 * routinely, so they never refuse a request by their mere presence (Twilio accepts them whether
 * or not anything is recorded); each one given is logged once per process, so the operator
 * learns it was not acted on without a line per request.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Params } from './form-params.js';

export class UnusedParameters {
  private readonly logged = new Set<string>();

  constructor(
    private readonly log: FastifyBaseLogger,
    /** Why they are not acted on, for the log line. */
    private readonly why: string,
  ) {}

  /** Logs, once each, the parameters of `names` that `form` gives. */
  note(form: Params, names: readonly string[]): void {
    for (const name of names) {
      if (form[name] === undefined || this.logged.has(name)) continue;
      this.logged.add(name);
      this.log.warn({ parameter: name }, `${name} was accepted but is not acted on: ${this.why} (logged once)`);
    }
  }
}
