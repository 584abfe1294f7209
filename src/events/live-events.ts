/**
 * The live event stream's side of the app (routes/events.ts serves it): where its events come
 * from — conference events from the event bus (which, with several nodes, already carries every
 * node's), call progress, recording moves and gathers from the call engine's and recordings'
 * notifiers (wrapped here, so callbacks go on exactly as before) and, with several nodes, the
 * other nodes' through the cluster channel (live-event-relay.ts) — and the open streams, all
 * closed on shutdown.
 */
import type { ServerResponse } from 'node:http';
import type { CallNotifier } from '../domain/call-ports.js';
import type { ClusterChannel, ClusterMessage } from '../domain/cluster.js';
import type { LiveEvent } from '../domain/live-event.js';
import type { Recording } from '../domain/recording.js';
import type { EventBus } from './event-bus.js';
import { callLiveEvent, conferenceLiveEvent, gatherLiveEvent, recordingLiveEvent } from './live-event-builders.js';
import { LiveEventHub, type LiveEventFilter, type LiveEventHubOptions } from './live-event-hub.js';
import { LiveEventRelay } from './live-event-relay.js';
import { LiveEventStream, type LiveEventStreamOptions } from './live-event-stream.js';

/** What recordings tell (services/recordings/live-recordings.ts RecordingNotifier). */
export interface RecordingNotifierLike {
  recordingStatus(recording: Recording): void;
  recordingMoved?(recording: Recording): void;
}

export interface LiveEventsOptions {
  bus: EventBus;
  /** With several nodes: the cluster channel and how to NOTIFY on it. */
  cluster?: { channel: ClusterChannel; notify: (messages: readonly ClusterMessage[]) => Promise<void> };
  /** The API's base URL as callers reach it (RecordingUrl). */
  baseUrl: () => string;
  onRelayError: (error: unknown, dropped: number) => void;
  /** Told when a stream is cut off for not keeping up. */
  onOverflow?: (accountSid: string) => void;
  hub?: LiveEventHubOptions;
  stream?: Omit<LiveEventStreamOptions, 'onOverflow'>;
  now?: () => number;
}

export class LiveEvents {
  readonly hub: LiveEventHub;
  private readonly relay: LiveEventRelay | undefined;
  private readonly streams = new Set<LiveEventStream>();
  private readonly stops: (() => void)[] = [];
  private isClosed = false;

  constructor(private readonly options: LiveEventsOptions) {
    this.hub = new LiveEventHub(options.hub);
    this.stops.push(options.bus.subscribe((event) => this.hub.publish(conferenceLiveEvent(event))));
    const { cluster } = options;
    if (cluster) {
      const relay = new LiveEventRelay({ from: this.hub.boot, notify: cluster.notify, onError: options.onRelayError });
      this.relay = relay;
      this.stops.push(
        cluster.channel.subscribe((message) => {
          if (message.t !== 'live' || relay.isOwn(message)) return;
          for (const event of message.events) this.hub.publish(event);
        }),
      );
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The call engine's notifier, also telling every call's progress and gathers to the stream. */
  tapCalls(inner: CallNotifier): CallNotifier {
    const now = this.options.now ?? Date.now;
    return {
      callProgress: (call, event, detail) => {
        inner.callProgress(call, event, detail);
        this.happened(callLiveEvent(call, event, detail));
      },
      gathered: (call, report) => {
        inner.gathered?.(call, report);
        this.happened(gatherLiveEvent(call, report, now()));
      },
    };
  }

  /** The recordings' notifier, also telling every status a recording moves through. */
  tapRecordings(inner: RecordingNotifierLike): Required<RecordingNotifierLike> {
    return {
      recordingStatus: (recording) => {
        inner.recordingStatus(recording);
        this.happened(recordingLiveEvent(recording, this.options.baseUrl()));
      },
      recordingMoved: (recording) => {
        inner.recordingMoved?.(recording);
        this.happened(recordingLiveEvent(recording, this.options.baseUrl()));
      },
    };
  }

  /** Starts a stream of the account's events on the response (already authenticated). */
  open(response: ServerResponse, accountSid: string, filter: LiveEventFilter, lastEventId?: string): LiveEventStream {
    const stream = new LiveEventStream(response, { ...this.options.stream, onOverflow: () => this.options.onOverflow?.(accountSid) });
    if (this.isClosed) {
      stream.close();
      return stream;
    }
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
    stream.onClose(this.hub.subscribe(accountSid, filter, stream, lastEventId));
    return stream;
  }

  /** Ends every stream (shutdown) and stops listening. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const stop of this.stops.splice(0)) stop();
    this.relay?.close();
    for (const stream of [...this.streams]) stream.close();
  }

  /** An event only this node knows: streamed here, relayed to the others. */
  private happened(event: LiveEvent): void {
    if (this.isClosed) return;
    this.hub.publish(event);
    this.relay?.relay(event);
  }
}
