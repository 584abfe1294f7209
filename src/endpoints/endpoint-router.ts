/**
 * Reaches endpoints for the call engine, by kind: `sim:` through the simulated dialer, `sip:`
 * through the SIP gateway, E.164 numbers through the gateway's carrier trunk when one is
 * configured (CONCLAVE_SIP_TRUNK, sip-trunk.ts), `client:` identities through the browsers
 * signed in as them (client/client-dialer.ts). A number without a trunk fails with a log line
 * saying why.
 */
import type { DialOptions, DialResult, EndpointDialer, InboundLeg } from '../domain/call-ports.js';
import type { Endpoint } from '../domain/endpoint.js';
import type { SimulatedDialer } from './simulated-dialer.js';
import type { SipGateway } from './sip/sip-gateway.js';

export interface RouterLogger {
  warn(obj: object, msg: string): void;
}

export class EndpointRouter implements EndpointDialer {
  constructor(
    private readonly sim: SimulatedDialer,
    private readonly sip: () => SipGateway | undefined,
    private readonly logger: RouterLogger,
    private readonly client?: { dial(identity: string, options: DialOptions): Promise<DialResult> },
  ) {}

  dial(endpoint: Endpoint, options: DialOptions): Promise<DialResult> {
    if (endpoint.kind === 'sim') return this.sim.dial(endpoint, options);
    if (endpoint.kind === 'sip') {
      const gateway = this.sip();
      if (gateway) return gateway.dial(endpoint.uri, options);
      this.logger.warn({ endpoint }, 'SIP is not listening on this node (the server was started without it)');
      return Promise.resolve({ outcome: 'failed' });
    }
    if (endpoint.kind === 'number') {
      const dialled = this.sip()?.dialNumber(endpoint.number, options);
      if (dialled) return dialled;
      this.logger.warn({ endpoint, callSid: options.callSid }, `no route to ${endpoint.number}: numbers go out through a carrier trunk, and none is configured (set CONCLAVE_SIP_TRUNK)`);
      return Promise.resolve({ outcome: 'failed' });
    }
    if (this.client) return this.client.dial(endpoint.identity, options);
    this.logger.warn({ endpoint }, 'no route to client: endpoints: this server has no browser signalling');
    return Promise.resolve({ outcome: 'failed' });
  }

  reachesNumbers(): boolean {
    return this.sip()?.dialsNumbers ?? false;
  }

  inbound(from: Endpoint): InboundLeg {
    if (from.kind !== 'sim') throw new Error(`a ${from.kind} caller comes with its own inbound leg`);
    return this.sim.inbound(from);
  }
}
