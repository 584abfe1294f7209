/**
 * A SIP URI's servers (RFC 3263 §4, sip-resolver.ts) as the transport takes them: host, port and
 * transport, and for TLS the URI's host as the name the server's certificate must carry (RFC 5922
 * §7.2: the name the request was addressed to, not the address DNS turned it into).
 */
import { parseSipUri } from '../sip-uri.js';
import type { SipDestination } from '../transaction/transport.js';
import { SipResolutionError, type SipResolver } from './sip-resolver.js';

/** Best first, never empty; rejects with a SipResolutionError (not a SIP URI, or DNS names no server). */
export async function sipDestinations(resolver: Pick<SipResolver, 'resolve'>, uri: string): Promise<SipDestination[]> {
  const sip = parseSipUri(uri);
  if (!sip) throw new SipResolutionError(`${uri} is not a SIP URI`);
  const targets = await resolver.resolve(sip);
  return targets.map((t) => ({ host: t.host, port: t.port, transport: t.transport, ...(t.transport === 'tls' ? { serverName: sip.host } : {}) }));
}
