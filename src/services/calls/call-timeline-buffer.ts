/**
 * The timeline of each call, kept in memory for the `Calls/{CallSid}/Timeline` resource
 * (domain/call-timeline.ts): status moves (through the call notifier), webhook requests (told
 * by the webhook client, filed under their `CallSid` parameter) and TwiML verbs started.
 *
 * Bounded as the SIP message buffer is (sip/trace/sip-message-buffer.ts): at most
 * MAX_EVENTS_PER_CALL events a call (the first ones, and always its final status move), at most
 * MAX_CALLS calls (the oldest dropped first), each kept KEEP_AFTER_END_MS after its final status;
 * a webhook's URL and error and a verb's attributes are cut at TEXT_LIMIT characters, and all
 * the text together stays under MAX_TOTAL_CHARS (oldest calls go first).
 */
import type { Call, CallProgressEvent } from '../../domain/call.js';
import type { CallNotifier } from '../../domain/call-ports.js';
import type { CallTimelineEntry, CallTimelineLog, VerbSummary, WebhookRequestReport } from '../../domain/call-timeline.js';

export const MAX_EVENTS_PER_CALL = 200;
export const MAX_CALLS = 2_000;
export const KEEP_AFTER_END_MS = 10 * 60_000;
/** Longest URL, error or attribute value kept. */
export const TEXT_LIMIT = 512;
/** All the text kept, at most (2,000 calls of 200 events of several 512-character strings would be ~1 GB). */
export const MAX_TOTAL_CHARS = 16 * 1024 * 1024;
const SWEEP_EVERY_MS = 10_000;

interface Entry {
  events: CallTimelineEntry[];
  endedAt: number | undefined;
  chars: number;
}

export class CallTimelineBuffer implements CallTimelineLog {
  /** CallSid → its timeline (insertion order: oldest first). */
  private readonly calls = new Map<string, Entry>();
  private lastSweep = 0;
  private chars = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The call notifier `inner`, also filing each status move and verb started. */
  tapCalls(inner: CallNotifier): CallNotifier {
    return {
      callProgress: (call, event, detail) => {
        inner.callProgress(call, event, detail);
        this.statusMoved(call, event);
      },
      gathered: (call, report) => inner.gathered?.(call, report),
      verbStarted: (call, verb) => {
        inner.verbStarted?.(call, verb);
        this.verbStarted(call, verb);
      },
    };
  }

  statusMoved(call: Call, event: CallProgressEvent): void {
    this.file(call.sid, { kind: 'status', status: call.status, event }, event === 'completed');
  }

  verbStarted(call: Call, verb: VerbSummary): void {
    const attributes = Object.fromEntries(Object.entries(verb.attributes).map(([key, value]) => [key, cut(value)]));
    this.file(call.sid, { kind: 'verb', verb: verb.verb, attributes });
  }

  /** A webhook request ended; filed only when it was made for a call this node knows. */
  webhookRequested(report: WebhookRequestReport): void {
    const { callSid, ...rest } = report;
    if (callSid === undefined) return;
    this.file(callSid, { kind: 'webhook', ...rest, url: cut(rest.url), error: rest.error === undefined ? undefined : cut(rest.error) });
  }

  eventsOf(callSid: string): readonly CallTimelineEntry[] {
    this.sweep(this.now());
    return this.calls.get(callSid)?.events ?? [];
  }

  private file(callSid: string, event: DistributiveOmit<CallTimelineEntry, 'time'>, ends = false): void {
    const time = this.now();
    this.sweep(time);
    let entry = this.calls.get(callSid);
    if (!entry) {
      entry = { events: [], endedAt: undefined, chars: 0 };
      this.calls.set(callSid, entry);
      for (const oldest of this.calls.keys()) {
        if (this.calls.size <= MAX_CALLS) break;
        this.forget(oldest);
      }
    }
    if (ends) entry.endedAt = time;
    // The final status move is kept even past the limit, in the last place: it says how the call ended.
    if (entry.events.length >= MAX_EVENTS_PER_CALL) {
      if (!ends) return;
      this.drop(entry, entry.events.pop()!);
    }
    const filed = { time: new Date(time).toISOString(), ...event } as CallTimelineEntry;
    const chars = JSON.stringify(filed).length;
    entry.events.push(filed);
    entry.chars += chars;
    this.chars += chars;
    for (const oldest of this.calls.keys()) {
      if (this.chars <= MAX_TOTAL_CHARS) break;
      this.forget(oldest);
    }
  }

  private drop(entry: Entry, event: CallTimelineEntry): void {
    const chars = JSON.stringify(event).length;
    entry.chars -= chars;
    this.chars -= chars;
  }

  private forget(callSid: string): void {
    this.chars -= this.calls.get(callSid)?.chars ?? 0;
    this.calls.delete(callSid);
  }

  /** Drops what has been kept long enough; at most once every SWEEP_EVERY_MS. */
  private sweep(time: number): void {
    if (time - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = time;
    for (const [callSid, entry] of this.calls) if (entry.endedAt !== undefined && time - entry.endedAt > KEEP_AFTER_END_MS) this.forget(callSid);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function cut(text: string): string {
  return text.length <= TEXT_LIMIT ? text : `${text.slice(0, TEXT_LIMIT - 1)}…`;
}
