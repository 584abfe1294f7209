/**
 * What transactions need from a transport (RFC 3261 §18): a way to send a message to an
 * address, and whether delivery is reliable (TCP) — reliability switches off retransmission
 * timers A, E, G and zeroes the wait timers D, I, J, K (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
 *
 * Also the server-transport rules for a received request's top Via (§18.2.1 `received`,
 * RFC 3581 §4 `rport`) and for where a response goes (§18.2.2, RFC 3581 §4).
 */
import { serializeVia } from '../header-values.js';
import { topVia, type SipMessage, type SipRequest } from '../message.js';

export interface SipDestination {
  host: string;
  port: number;
  /** Which transport to use (RFC 3261 §18.1.1); the transport's own choice when absent. */
  transport?: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  /**
   * Over TLS: the name the peer's certificate must carry — the host of the URI that led here
   * (RFC 5922 §7.2), which DNS may have turned into a different `host`; `host` when absent.
   */
  serverName?: string;
}

export interface SipTransport {
  readonly reliable: boolean;
  /** Sends or throws; a throw is a transport error for the transaction (§17.1.4, §17.2.4). */
  send(message: SipMessage, destination: SipDestination): void;
  /**
   * Where a stream transport reports a request it had accepted but could not deliver (its
   * connection failed before it was up): a transport error found later (§17.1.4).
   */
  setUndeliveredHandler?(handler: (request: SipMessage, error: Error) => void): void;
}

/**
 * Records where a request really came from in its top Via: `received` when the source address
 * differs from sent-by (§18.2.1), and the source port in an `rport` the client asked for
 * (RFC 3581 §4). Responses copy the Via, so this is what routes them back through NATs.
 */
export function stampReceived(request: SipRequest, source: SipDestination): void {
  const values = request.headers.getAll('Via');
  const first = values[0];
  const via = first === undefined ? undefined : topVia(request);
  if (!via) return;
  let changed = false;
  if (via.host !== source.host || via.rport === true) {
    via.params.set('received', source.host);
    changed = true;
  }
  if (via.rport === true) {
    via.params.set('rport', String(source.port));
    changed = true;
  }
  if (!changed) return;
  request.headers.delete('Via');
  request.headers.append('Via', serializeVia(via));
  for (const rest of values.slice(1)) request.headers.append('Via', rest);
}

/**
 * Where a response to `request` goes. Reliable transports answer on the connection the
 * request came from (§18.2.2), modelled as the source address. Unreliable: the `received`
 * address (or sent-by host) and the `rport` port (or sent-by port, default 5060).
 */
export function responseDestination(request: SipRequest, source: SipDestination, reliable: boolean): SipDestination {
  const via = topVia(request);
  if (reliable || !via) return source;
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
  return { host: via.received ?? via.host, port };
}
