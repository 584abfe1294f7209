/**
 * One client's Server-Sent Events connection (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * events are written to the socket as they come, never awaited — a slow client cannot slow
 * the node. What the socket has not taken yet is bounded (`maxBufferedBytes`); past it the
 * stream is closed, and the client reconnects with `Last-Event-ID` to get what it missed.
 * What it missed (a replay, up to the hub's window) is written as the socket takes it, not at
 * once; live events wait behind it, up to `MAX_BACKLOG` events. A
 * comment line every `keepAliveMs` keeps proxies from closing an idle stream and tells a
 * client its connection is alive.
 */
import type { ServerResponse } from 'node:http';
import type { LiveEventSubscriber, NumberedLiveEvent } from './live-event-hub.js';

export interface LiveEventStreamOptions {
  maxBufferedBytes?: number;
  keepAliveMs?: number;
  /** Told once, when the stream closed because the client did not keep up. */
  onOverflow?: () => void;
}

/** 256 KB not yet taken by the client (beyond what the kernel holds), some 500 events. */
export const DEFAULT_STREAM_BUFFER_BYTES = 256 * 1024;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** Events waiting behind a replay (shared with the hub's window: references, not copies). */
const MAX_BACKLOG = 50_000;
/** How long a client waits before reconnecting (the SSE `retry` field). */
const RETRY_MS = 1000;

export class LiveEventStream implements LiveEventSubscriber {
  private isClosed = false;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;
  private readonly stops: (() => void)[] = [];
  /** A replay being written, and the live events behind it; empty when writing live. */
  private backlog: NumberedLiveEvent[] = [];
  private backlogAt = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly options: LiveEventStreamOptions = {},
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_STREAM_BUFFER_BYTES;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold the events back.
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    this.write(`retry: ${RETRY_MS}\n\n`);
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
    this.keepAlive.unref();
    response.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Runs `stop` when the stream closes (the hub's unsubscribe). */
  onClose(stop: () => void): void {
    if (this.isClosed) stop();
    else this.stops.push(stop);
  }

  event(numbered: NumberedLiveEvent): void {
    if (this.backlog.length === 0) return this.write(numbered.text);
    if (this.backlog.length - this.backlogAt >= MAX_BACKLOG) return this.overflow();
    this.backlog.push(numbered);
  }

  replay(missed: NumberedLiveEvent[]): void {
    this.backlog = [...missed];
    this.backlogAt = 0;
    this.pump();
  }

  reset(latestId: string, reason: string): void {
    this.write(`id: ${latestId}\nevent: reset\ndata: ${JSON.stringify({ Reason: reason })}\n\n`);
  }

  close(): void {
    this.finish(false);
  }

  /** Ends the response cleanly, or drops the connection with what it still holds. */
  private finish(drop: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.keepAlive);
    for (const stop of this.stops.splice(0)) stop();
    if (drop) this.response.destroy();
    else this.response.end();
  }

  /** Writes the backlog while the socket takes it (until `write` asks to wait), more on `drain`. */
  private pump(): void {
    while (!this.isClosed && this.backlogAt < this.backlog.length) {
      if (!this.response.write(this.backlog[this.backlogAt++]!.text)) {
        this.response.once('drain', () => this.pump());
        return;
      }
    }
    this.backlog = [];
    this.backlogAt = 0;
  }

  private write(text: string): void {
    if (this.isClosed) return;
    if (this.response.writableLength + text.length > this.maxBufferedBytes) return this.overflow();
    this.response.write(text);
  }

  /** The client does not keep up: cut it off rather than hold more for it. */
  private overflow(): void {
    this.finish(true);
    this.options.onOverflow?.();
  }
}
