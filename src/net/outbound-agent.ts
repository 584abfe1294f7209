/**
 * The HTTP connection pool every request to an account's URL goes through (webhook-client.ts,
 * audio-fetcher.ts), with the outbound policy (outbound-policy.ts) applied where it cannot be
 * talked around: when each TCP connection is made.
 *
 * Checking a URL's host before requesting it is not enough: a name can resolve to an allowed
 * address when checked and to 169.254.169.254 a moment later when the request connects ("DNS
 * rebinding"), and a redirect leads somewhere else again. So the check lives in undici's connect
 * step (undici is the client Node's fetch is built on; its `Agent` takes a `connect` function):
 * a literal IP address is checked as it is, a host name is checked by name (metadata services)
 * and then resolved by a lookup that keeps only the allowed addresses — the socket connects to
 * one of those and nothing else. Each hop of a redirect is a request of its own through this
 * pool, so it is checked anew. As a last guard the socket's remote address is checked once
 * connected, before a byte is written.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { OutboundPolicy } from './outbound-policy.js';

/** A connection the outbound policy refused; `reason` says which rule, for the operator's log. */
export class OutboundRefusedError extends Error {
  readonly code = 'EOUTBOUNDREFUSED';

  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`connection to ${host} refused by the outbound policy: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

/** A `dns.lookup` that drops the addresses the policy refuses, and fails when none is left. */
function policyLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    const byName = policy.checkHostname(hostname);
    if (!byName.allowed) {
      callback(new OutboundRefusedError(hostname, byName.reason), '', 0);
      return;
    }
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const allowed = addresses.filter((a) => policy.checkAddress(a.address).allowed);
      if (allowed.length === 0) {
        const first = addresses[0];
        const why = first === undefined ? 'no address' : (policy.checkAddress(first.address) as { reason: string }).reason;
        callback(new OutboundRefusedError(hostname, `it resolves only to refused addresses (${why})`), '', 0);
        return;
      }
      if (options.all === true) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

export interface OutboundAgentOptions {
  /** Milliseconds to establish a connection (undici's default, 10 s, otherwise). */
  connectTimeoutMs?: number;
}

/** An undici Agent (the `dispatcher` of a fetch) that connects only where `policy` allows. */
export function outboundAgent(policy: OutboundPolicy, options: OutboundAgentOptions = {}): Agent {
  const connectTo = buildConnector({
    lookup: policyLookup(policy),
    ...(options.connectTimeoutMs === undefined ? {} : { timeout: options.connectTimeoutMs }),
  });
  return new Agent({
    connect: (target, callback) => {
      // A literal address is never looked up: check it here (undici gives IPv6 without brackets).
      if (isIP(target.hostname) !== 0) {
        const verdict = policy.checkAddress(target.hostname);
        if (!verdict.allowed) {
          callback(new OutboundRefusedError(target.hostname, verdict.reason), null);
          return;
        }
      }
      connectTo(target, (error, socket) => {
        if (error !== null || socket === null) {
          callback(error, null);
          return;
        }
        const remote = socket.remoteAddress;
        const verdict = remote === undefined ? { allowed: false as const, reason: 'the socket has no remote address' } : policy.checkAddress(remote);
        if (!verdict.allowed) {
          socket.destroy();
          callback(new OutboundRefusedError(target.hostname, verdict.reason), null);
          return;
        }
        callback(null, socket);
      });
    },
  });
}

let defaultAgent: Agent | undefined;

/**
 * The agent of the built-in policy (no operator lists), shared: for clients built without one
 * (tools, tests), so that no request to an account's URL ever goes out unchecked.
 */
export function defaultOutboundAgent(): Agent {
  defaultAgent ??= outboundAgent(new OutboundPolicy());
  return defaultAgent;
}
