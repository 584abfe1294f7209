/**
 * The SIP messages of each call, kept in memory for the `Calls/{CallSid}/SipMessages` resource
 * (domain/sip-messages.ts): every message the transport sees is filed under its Call-ID; once
 * the gateway tells which call a Call-ID belongs to (`bind`), they are that call's.
 *
 * Bounded, whatever the traffic: at most MAX_MESSAGES_PER_CALL messages a call (the first ones:
 * the set-up is what explains a call), each cut at SIP_MESSAGE_TEXT_LIMIT bytes; at most
 * MAX_CALLS calls (the oldest dropped first), each kept KEEP_AFTER_END_MS after its end (a final
 * failure to its INVITE, a CANCEL, or the 200 to a BYE; a call whose end never shows in SIP stays
 * until MAX_CALLS pushes it out). Messages of Call-IDs no call claims (REGISTER, OPTIONS, scanners) stay in a smaller
 * pool (MAX_UNBOUND Call-IDs, MAX_UNBOUND_MESSAGES each) for UNBOUND_MS, so a flood of them never
 * pushes real calls out. All the text together stays under MAX_TOTAL_BYTES (oldest calls go first).
 */
import type { SipMessageLog, SipMessageRecord } from '../../domain/sip-messages.js';
import { callId, cseq, type SipMessage } from '../message.js';
import { firstLineOf, hostPort, textOf, type SipTraceEvent } from './sip-trace.js';

export const SIP_MESSAGE_TEXT_LIMIT = 8 * 1024;
export const MAX_MESSAGES_PER_CALL = 200;
export const MAX_CALLS = 2_000;
export const KEEP_AFTER_END_MS = 10 * 60_000;
/** All the text kept, at most: past it the oldest calls go first (2,000 calls of 200 full 8 KB messages would be 3 GB). */
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const MAX_UNBOUND = 500;
/** Messages kept of a Call-ID no call has claimed (a call's set-up is a handful). */
const MAX_UNBOUND_MESSAGES = 20;
const UNBOUND_MS = 60_000;
const SWEEP_EVERY_MS = 10_000;

interface Entry {
  messages: SipMessageRecord[];
  /** When the call ended (as its messages tell), else undefined. */
  endedAt: number | undefined;
  lastAt: number;
  /** The Call-IDs bound to it. */
  callIds: string[];
  /** Length of its messages' text. */
  bytes: number;
}

export class SipMessageBuffer implements SipMessageLog {
  /** Call-ID → the messages no call has claimed yet (insertion order: oldest first). */
  private readonly unbound = new Map<string, Entry>();
  /** CallSid → its messages (insertion order: oldest first). */
  private readonly calls = new Map<string, Entry>();
  /** Call-ID → the CallSid it was bound to. */
  private readonly callSidOf = new Map<string, string>();
  private lastSweep = 0;
  /** Bytes of text kept, bound and unbound. */
  private bytes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Files one message the transport received or sent. */
  record(event: SipTraceEvent): void {
    const id = callId(event.message);
    if (id === undefined) return;
    const time = this.now();
    this.sweep(time);
    const callSid = this.callSidOf.get(id);
    const entry = callSid !== undefined ? this.calls.get(callSid) : this.unboundEntry(id, time);
    if (!entry) return;
    entry.lastAt = time;
    if (endsCall(event.message)) entry.endedAt = time;
    if (entry.messages.length >= (callSid !== undefined ? MAX_MESSAGES_PER_CALL : MAX_UNBOUND_MESSAGES)) return;
    const [source, destination] = event.direction === 'in' ? [event.remote, event.local] : [event.local, event.remote];
    const text = textOf(event.message, SIP_MESSAGE_TEXT_LIMIT);
    entry.messages.push({
      time: new Date(time).toISOString(),
      direction: event.direction,
      source: hostPort(source),
      destination: hostPort(destination),
      transport: event.transport,
      firstLine: firstLineOf(event.message),
      text,
    });
    entry.bytes += text.length;
    this.bytes += text.length;
    this.keepUnderBudget();
  }

  /** The messages of `callId`, seen and to come, are `callSid`'s (a call may have several Call-IDs: forks, retries). */
  bind(id: string, callSid: string): void {
    const time = this.now();
    let entry = this.calls.get(callSid);
    if (!entry) {
      entry = { messages: [], endedAt: undefined, lastAt: time, callIds: [], bytes: 0 };
      this.calls.set(callSid, entry);
      this.evictCalls();
    }
    const pending = this.unbound.get(id);
    if (pending) {
      this.unbound.delete(id);
      entry.messages = [...entry.messages, ...pending.messages].sort((a, b) => a.time.localeCompare(b.time)).slice(0, MAX_MESSAGES_PER_CALL);
      const kept = entry.messages.reduce((sum, m) => sum + m.text.length, 0);
      this.bytes -= entry.bytes + pending.bytes - kept;
      entry.bytes = kept;
      entry.endedAt = pending.endedAt ?? entry.endedAt;
    }
    this.callSidOf.set(id, callSid);
    entry.callIds.push(id);
  }

  messagesOf(callSid: string): readonly SipMessageRecord[] {
    this.sweep(this.now());
    return this.calls.get(callSid)?.messages ?? [];
  }

  private unboundEntry(id: string, time: number): Entry {
    let entry = this.unbound.get(id);
    if (!entry) {
      entry = { messages: [], endedAt: undefined, lastAt: time, callIds: [], bytes: 0 };
      this.unbound.set(id, entry);
      for (const oldest of this.unbound.keys()) {
        if (this.unbound.size <= MAX_UNBOUND) break;
        this.dropUnbound(oldest);
      }
    }
    return entry;
  }

  private evictCalls(): void {
    for (const oldest of this.calls.keys()) {
      if (this.calls.size <= MAX_CALLS) break;
      this.forget(oldest);
    }
  }

  private forget(callSid: string): void {
    const entry = this.calls.get(callSid);
    for (const id of entry?.callIds ?? []) this.callSidOf.delete(id);
    this.bytes -= entry?.bytes ?? 0;
    this.calls.delete(callSid);
  }

  private dropUnbound(id: string): void {
    this.bytes -= this.unbound.get(id)?.bytes ?? 0;
    this.unbound.delete(id);
  }

  /** Past MAX_TOTAL_BYTES: the oldest unclaimed Call-IDs go first, then the oldest calls. */
  private keepUnderBudget(): void {
    for (const id of this.unbound.keys()) {
      if (this.bytes <= MAX_TOTAL_BYTES) return;
      this.dropUnbound(id);
    }
    for (const callSid of this.calls.keys()) {
      if (this.bytes <= MAX_TOTAL_BYTES) return;
      this.forget(callSid);
    }
  }

  /** Drops what has been kept long enough; at most once every SWEEP_EVERY_MS. */
  private sweep(time: number): void {
    if (time - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = time;
    for (const [id, entry] of this.unbound) if (time - entry.lastAt > UNBOUND_MS) this.dropUnbound(id);
    for (const [callSid, entry] of this.calls) if (entry.endedAt !== undefined && time - entry.endedAt > KEEP_AFTER_END_MS) this.forget(callSid);
  }
}

/** A message after which the call is over: a final failure to its INVITE, a CANCEL, or the 200 to a BYE. */
function endsCall(message: SipMessage): boolean {
  if (message.kind === 'request') return message.method === 'CANCEL';
  const method = cseq(message)?.method;
  return (method === 'INVITE' && message.status >= 300) || (method === 'BYE' && message.status < 300);
}
