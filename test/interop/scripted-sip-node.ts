/**
 * A stand-in for a sick Conclave node, on a UDP port of 127.0.0.1, for the proxy's failover
 * tests: it answers the proxy's OPTIONS probes with 200 (so the proxy keeps it in its list) and
 * every INVITE in one scripted way — never (a hung node), or with a final status (503 from a
 * node out of RTP ports, 486 from an application that said busy). It answers statelessly
 * (RFC 3261 §8.2.6: Via, From, To with a tag, Call-ID, CSeq copied), which is all a failed
 * INVITE needs; the ACK of its failure is taken and ignored.
 */
import dgram from 'node:dgram';
import { newTag } from '../../src/sip/dialog/dialog.js';
import { responseTo } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../src/sip/serialize-message.js';

export interface ScriptedSipNode {
  readonly port: number;
  /** INVITEs received (Call-IDs), retransmissions counted once. */
  readonly invites: Set<string>;
  close(): Promise<void>;
}

/** `inviteStatus` null: INVITEs are never answered, not even with 100 Trying. */
export async function startScriptedSipNode(inviteStatus: number | null): Promise<ScriptedSipNode> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const invites = new Set<string>();
  socket.on('message', (data, from) => {
    const parsed = parseSipMessage(data);
    if (!parsed.ok || parsed.message.kind !== 'request') return;
    const request = parsed.message;
    let status: number | null = null;
    if (request.method === 'OPTIONS') status = 200;
    else if (request.method === 'INVITE') {
      invites.add(request.headers.get('Call-ID') ?? '');
      status = inviteStatus;
    }
    if (status === null) return;
    const response = responseTo(request, status, newTag());
    if (request.method === 'OPTIONS') response.headers.append('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS');
    // §18.2.2: a response goes to the top Via's sent-by (the proxy's socket); the source port
    // is the same one for Kamailio, which sends from its listening socket.
    socket.send(serializeSipMessage(response), from.port, from.address);
  });
  return {
    port: socket.address().port,
    invites,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
