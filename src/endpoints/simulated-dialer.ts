/**
 * Reaches endpoints for the call engine. Simulated endpoints (`sim:`) behave as their address
 * says — answer at once or after ringing, busy, no answer, failure, hang up after a while — so
 * anyone can try the whole API with no phone. SIP endpoints need the SIP plane and numbers need
 * a carrier; until those exist, dialling them fails with a log line saying why.
 */
import type { DialResult, EndpointDialer, RemoteLeg } from '../domain/call-ports.js';
import type { Endpoint, SimEndpoint } from '../domain/endpoint.js';

export interface DialerLogger {
  warn(obj: object, msg: string): void;
}

/** Resolves after `ms`, or at once with `false` when `signal` aborts first. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => finish(true), ms);
    const onAbort = (): void => finish(false);
    function finish(elapsed: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function simulatedLeg(endpoint: Endpoint): RemoteLeg {
  const local = new AbortController();
  const after = endpoint.kind === 'sim' ? endpoint.hangupAfterSeconds : null;
  const hungUp = after === null ? new Promise<void>(() => {}) : wait(after * 1000, local.signal).then(() => undefined);
  return {
    // When Conclave hangs up first, this promise never settles: the far end did not hang up.
    hungUp: hungUp.then(() => (local.signal.aborted ? new Promise<void>(() => {}) : undefined)),
    hangup: () => local.abort(),
  };
}

export class SimulatedDialer implements EndpointDialer {
  constructor(private readonly logger: DialerLogger) {}

  async dial(endpoint: Endpoint, options: { timeoutSeconds: number; signal: AbortSignal; onRinging: () => void }): Promise<DialResult> {
    if (endpoint.kind !== 'sim') {
      this.logger.warn({ endpoint }, endpoint.kind === 'sip' ? 'SIP calls need the SIP plane, which is not there yet' : `no route to ${endpoint.kind} endpoints: Conclave has no carrier`);
      return { outcome: 'failed' };
    }
    return this.dialSimulated(endpoint, options);
  }

  answerInbound(from: Endpoint): RemoteLeg {
    return simulatedLeg(from);
  }

  private async dialSimulated(endpoint: SimEndpoint, options: { timeoutSeconds: number; signal: AbortSignal; onRinging: () => void }): Promise<DialResult> {
    const { signal } = options;
    if (endpoint.outcome === 'fail') return { outcome: 'failed' };
    if (endpoint.outcome === 'busy') return { outcome: 'busy' };
    options.onRinging();
    const timeout = options.timeoutSeconds * 1000;
    if (endpoint.outcome === 'no-answer' || endpoint.ringSeconds * 1000 >= timeout) {
      return (await wait(timeout, signal)) ? { outcome: 'no-answer' } : { outcome: 'canceled' };
    }
    if (endpoint.ringSeconds > 0 && !(await wait(endpoint.ringSeconds * 1000, signal))) return { outcome: 'canceled' };
    if (signal.aborted) return { outcome: 'canceled' };
    return { outcome: 'answered', leg: simulatedLeg(endpoint) };
  }
}
