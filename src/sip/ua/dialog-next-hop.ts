/**
 * Where a request inside a dialog (ACK, BYE, re-INVITE) is sent. RFC 3261 §12.2.1.1 and §8.1.2:
 * to the URI of the first Route when the route set has one, else to the remote target (the
 * peer's Contact); and RFC 3263 §4 applies to that URI as to any other — every request, not only
 * the initial INVITE. A carrier whose 200 OK says `Contact: <sip:gw1.carrier.test>`, or whose
 * edge Record-Routes as `<sip:edge.carrier.test;lr>`, is reached at whatever NAPTR → SRV → A
 * name for it.
 *
 * An IP address (or a user agent without `resolveTarget`) is used as written, at once: the
 * common case costs no DNS and no extra turn of the event loop. A host name is resolved once per
 * next-hop URI and dialog (the answer is kept on the call record, so the ACK and the BYE share
 * one lookup, and once it is there a BYE goes at once — at shutdown too, before the user agent
 * closes), and the request goes to the first server DNS gave. A name DNS does not know is
 * reported (onError) and the request is not sent.
 *
 * A URI with `;transport=ws` or `wss` (a WebRTC client's Contact, `sip:abc@xyz.invalid;
 * transport=ws`) is never looked up: its host names no machine (RFC 7118 §5.4), and the WebSocket
 * transport finds the client's connection by that name (ws-transport.ts).
 */
import { isIP } from 'node:net';
import { uriDestination } from '../dialog/dialog.js';
import { parseSipUri } from '../sip-uri.js';
import type { SipDestination } from '../transaction/transport.js';
import type { CallRecord } from './call-record.js';
import type { UaCore } from './ua-core.js';

/** An in-dialog request's next hop could not be resolved. */
export class NextHopError extends Error {
  override readonly name = 'NextHopError';
}

/** The record's next hop: now for an IP address, later for a name; undefined without a dialog. */
export function nextHopOf(core: UaCore, record: CallRecord): SipDestination | Promise<SipDestination> | undefined {
  const uri = record.dialog?.nextHopUri();
  if (uri === undefined) return undefined;
  const written = uriDestination(uri);
  const resolve = core.options.resolveTarget;
  if (!written || !resolve || isIP(written.host) !== 0 || overWebSocket(uri)) return written;
  if (record.nextHop?.uri === uri) return record.nextHop.resolved ?? record.nextHop.destination;
  const hop: NonNullable<CallRecord['nextHop']> = {
    uri,
    destination: resolve(uri).then((targets) => {
      const first = targets[0];
      if (!first) throw new NextHopError(`${uri}: DNS names no server`);
      hop.resolved = first;
      return first;
    }),
  };
  // Kept for the next request of the dialog; a failure is reported by whoever sends.
  hop.destination.catch(() => undefined);
  record.nextHop = hop;
  return hop.destination;
}

/** Runs `send` with the record's next hop, at once or once resolved; a failure is reported, not thrown. */
export function sendToNextHop(core: UaCore, record: CallRecord, what: string, send: (destination: SipDestination) => void): void {
  const hop = nextHopOf(core, record);
  if (hop === undefined) return;
  if (!(hop instanceof Promise)) {
    core.guard(() => send(hop));
    return;
  }
  hop.then(
    (destination) => core.guard(() => send(destination)),
    (error: unknown) => core.reportError(new NextHopError(`${what} not sent: ${error instanceof Error ? error.message : String(error)}`)),
  );
}

/** Whether a URI says `;transport=ws` or `wss` (RFC 7118 §5.2). */
function overWebSocket(uri: string): boolean {
  const transport = parseSipUri(uri)?.params.get('transport');
  return typeof transport === 'string' && /^wss?$/i.test(transport);
}
