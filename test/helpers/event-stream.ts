/**
 * A client of the live event stream (`GET /Accounts/{AccountSid}/Events`), as a browser's
 * fetch-streaming client reads it: a real HTTP request with Basic auth, the body read as it
 * arrives and parsed as Server-Sent Events (id, event, data; comment lines kept apart).
 */
import { until } from './until.js';

export interface StreamEvent {
  id: string | undefined;
  event: string;
  data: Record<string, string>;
}

export interface EventStreamClient {
  status: number;
  contentType: string | null;
  readonly events: StreamEvent[];
  /** Comment lines (`: keep-alive`), without the colon. */
  readonly comments: string[];
  /** Whether the server ended the stream (or cut it off). */
  readonly ended: boolean;
  /** Waits until `match` holds for an event received; resolves with it. */
  next(match: (event: StreamEvent) => boolean, description: string | (() => string), timeoutMs?: number): Promise<StreamEvent>;
  /** The id of the last event received (what a reconnect sends as Last-Event-ID). */
  lastId(): string | undefined;
  close(): void;
}

export interface OpenStreamOptions {
  auth: string;
  /** The query, e.g. `?CallSid=CA…`. */
  query?: string;
  lastEventId?: string;
}

export async function openEventStream(baseUrl: string, accountSid: string, options: OpenStreamOptions): Promise<EventStreamClient> {
  const abort = new AbortController();
  const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(options.auth).toString('base64')}`, accept: 'text/event-stream' };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(`${baseUrl}/2010-04-01/Accounts/${accountSid}/Events${options.query ?? ''}`, { headers, signal: abort.signal });
  const events: StreamEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  let pending = '';
  const parse = (block: string): void => {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ id, event, data: JSON.parse(data.join('\n')) as Record<string, string> });
  };
  if (response.body && response.status === 200) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += value;
          let end: number;
          while ((end = pending.indexOf('\n\n')) !== -1) {
            parse(pending.slice(0, end));
            pending = pending.slice(end + 2);
          }
        }
      } catch {
        // Aborted by close(), or cut off by the server.
      }
      ended = true;
    })();
  } else {
    ended = true;
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    comments,
    get ended() {
      return ended;
    },
    next: (match, description, timeoutMs = 10_000) => until(() => events.find(match), timeoutMs, description, 20),
    lastId: () => [...events].reverse().find((e) => e.id !== undefined)?.id,
    close: () => abort.abort(),
  };
}
