/* global TextDecoderStream, AbortController */
/**
 * Conclave's live event stream (`…/Accounts/{AccountSid}/Events`, Server-Sent Events) read with
 * fetch() streaming: EventSource cannot send an Authorization header, and the credentials must
 * never go in a URL. Parses the `text/event-stream` format (WHATWG HTML §9.2.6: `id:`,
 * `event:`, `data:` fields, a blank line ending an event, `:` comment lines) and reconnects with
 * `Last-Event-ID`, so nothing of the server's window is lost; when events were lost anyway the
 * server says `event: reset`, and the console reloads what it shows through the REST API. A server without the stream (404)
 * is reported as `unavailable`, and asked again now and then; the console polls the REST API
 * meanwhile.
 */

const RETRY_MS = 2000;
const ABSENT_RETRY_MS = 30_000;

export class EventStream {
  /**
   * @param {import('./api.js').Api} api
   * @param {{ onEvent(name: string, data: object, id: string): void, onState(state: 'connecting'|'live'|'unavailable'|'down'): void }} handlers
   */
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers;
    this.lastEventId = '';
    this.abort = new AbortController();
    this.closedFlag = false;
    void this.run();
  }

  get closed() {
    return this.closedFlag;
  }

  close() {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.abort.abort();
  }

  async run() {
    while (!this.closedFlag) {
      let wait = RETRY_MS;
      try {
        this.handlers.onState('connecting');
        const response = await this.api.openEvents(this.lastEventId, this.abort.signal);
        if (response.status === 404) {
          this.handlers.onState('unavailable');
          wait = ABSENT_RETRY_MS;
        } else if (!response.ok || !response.body) {
          this.handlers.onState('down');
        } else {
          this.handlers.onState('live');
          await this.read(response.body);
          if (!this.closedFlag) this.handlers.onState('down');
        }
      } catch {
        if (this.closedFlag) return;
        this.handlers.onState('down');
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { name: '', data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
        if (line === '') {
          this.dispatch(event);
          event = { name: '', data: [], id: null };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let text = colon === -1 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (field === 'event') event.name = text;
        else if (field === 'data') event.data.push(text);
        else if (field === 'id' && !text.includes('\u0000')) event.id = text;
      }
    }
  }

  dispatch(event) {
    if (event.id !== null) this.lastEventId = event.id;
    // `event: reset` (the server's window no longer holds what followed Last-Event-ID) is told even without data.
    if (event.data.length === 0 && event.name !== 'reset') return;
    let data;
    try {
      data = event.data.length === 0 ? {} : JSON.parse(event.data.join('\n'));
    } catch {
      return;
    }
    this.handlers.onEvent(event.name || 'message', data, event.id ?? '');
  }
}
