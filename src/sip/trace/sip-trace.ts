/**
 * What the SIP transport reports of every message it receives or sends (the hook the trace
 * log and the per-call message buffer listen on), and how such a message reads in a log line.
 * The message is reported after its Via and Contact were stamped, i.e. as it goes on the wire.
 */
import type { SipMessage } from '../message.js';
import { serializeSipMessage } from '../serialize-message.js';
import type { SipDestination } from '../transaction/transport.js';

export interface SipTraceEvent {
  direction: 'in' | 'out';
  transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  /** Our side: where it arrived, or the address it left from. */
  local: SipDestination;
  /** The peer: where it came from, or where it went. */
  remote: SipDestination;
  message: SipMessage;
}

export type SipTraceListener = (event: SipTraceEvent) => void;

/** `ip:port` (`[ipv6]:port`). */
export function hostPort(address: SipDestination): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function firstLineOf(message: SipMessage): string {
  return message.kind === 'request' ? `${message.method} ${message.uri} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`;
}

/** The message as text (a body that is not UTF-8 shows replacement characters), cut at `limit` bytes. */
export function textOf(message: SipMessage, limit: number): string {
  const bytes = serializeSipMessage(message);
  return bytes.subarray(0, limit).toString('utf8');
}

/** `SIP in udp 192.0.2.7:5060 → 127.0.0.1:5080: INVITE sip:+1555@… SIP/2.0`: one line a person reads. */
export function traceSummary(event: SipTraceEvent): string {
  const [from, to] = event.direction === 'in' ? [event.remote, event.local] : [event.local, event.remote];
  return `SIP ${event.direction} ${event.transport} ${hostPort(from)} → ${hostPort(to)}: ${firstLineOf(event.message)}`;
}
