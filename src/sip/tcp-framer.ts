/**
 * Cuts a TCP byte stream into SIP messages (RFC 3261 §18.3: on a stream, Content-Length says
 * where a message ends; a missing Content-Length is an error).
 *
 * CRLFs between messages are skipped (§7.5), and a double CRLF "ping" is reported so the
 * transport can answer it with a single CRLF "pong" (RFC 5626 §3.5.1). The buffer is bounded:
 * a header section larger than `maxHeaderBytes`, or a message larger than `maxMessageBytes`, is
 * an overflow, after which the framer is dead and the connection must be closed — there is no
 * way to resynchronise a stream whose framing is lost. An overflow hands back the start of the
 * message (`head`, at most `maxHeaderBytes`), so that the transport can still answer it with
 * 513 Message Too Large (RFC 3261 §21.5.14) before it closes.
 */

export type FramerOutput =
  | { type: 'message'; data: Buffer }
  | { type: 'keep-alive' }
  | { type: 'error'; reason: string; tooLarge?: { head: Buffer } };

export interface TcpFramerOptions {
  /** Largest message (headers and body) accepted, in bytes; default 64 KiB. */
  maxMessageBytes?: number;
  /** Largest header section accepted, in bytes; default 16 KiB (at most `maxMessageBytes`). */
  maxHeaderBytes?: number;
}

const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

export class SipTcpFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;
  private readonly maxMessageBytes: number;
  private readonly maxHeaderBytes: number;

  constructor(options: TcpFramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    this.maxHeaderBytes = Math.min(options.maxHeaderBytes ?? 16 * 1024, this.maxMessageBytes);
  }

  /** True after an error: no further output, close the connection. */
  get closed(): boolean {
    return this.failed;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Feeds a chunk and returns every complete message, keep-alive and error it completes. */
  push(chunk: Buffer): FramerOutput[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramerOutput[] = [];
    for (;;) {
      const next = this.next();
      if (!next) break;
      out.push(next);
      if (next.type === 'error') {
        this.failed = true;
        this.buffer = Buffer.alloc(0);
        break;
      }
    }
    return out;
  }

  private next(): FramerOutput | undefined {
    const ping = this.skipCrlf();
    if (ping) return { type: 'keep-alive' };
    if (this.buffer.length === 0) return undefined;

    // The empty line must come within maxHeaderBytes; while it may still, wait for more bytes.
    const end = this.buffer.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0 || end > this.maxHeaderBytes) {
      if (end < 0 && this.buffer.length <= this.maxHeaderBytes + 3) return undefined;
      return this.overflow(`header section larger than ${this.maxHeaderBytes} bytes`);
    }
    const bodyStart = end + 4;
    const head = this.buffer.toString('latin1', 0, end).replace(/\r\n[ \t]+/g, ' ');
    const match = CONTENT_LENGTH.exec(head);
    if (!match) return { type: 'error', reason: 'missing or malformed Content-Length on a stream' };
    const length = Number(match[1]);
    const total = bodyStart + length;
    if (total > this.maxMessageBytes) return this.overflow(`message larger than ${this.maxMessageBytes} bytes`, end);
    if (this.buffer.length < total) return undefined;
    const data = this.buffer.subarray(0, total);
    this.buffer = this.buffer.subarray(total);
    return { type: 'message', data };
  }

  /** The stream outgrew a limit: hand back what may hold the start line and the first headers. */
  private overflow(reason: string, headerEnd = this.maxHeaderBytes): FramerOutput {
    // A copy: the buffer it is cut from is dropped right after.
    const head = Buffer.from(this.buffer.subarray(0, Math.min(headerEnd, this.maxHeaderBytes)));
    return { type: 'error', reason, tooLarge: { head } };
  }

  /**
   * Drops CRLFs before a start line (§7.5); true when they held a complete double-CRLF ping.
   * A partial ping ("\r\n", "\r\n\r") at the end of the buffer is kept until more bytes say
   * whether it is a ping or just line ends before the next message.
   */
  private skipCrlf(): boolean {
    for (;;) {
      const b = this.buffer;
      if (b.length >= 4 && b[0] === 0x0d && b[1] === 0x0a && b[2] === 0x0d && b[3] === 0x0a) {
        this.buffer = b.subarray(4);
        return true;
      }
      if (b.length >= 2 && b[0] === 0x0d && b[1] === 0x0a) {
        if (b.length < 4 && PING.subarray(0, b.length).equals(b)) return false;
        this.buffer = b.subarray(2);
        continue;
      }
      if (b[0] === 0x0a || (b[0] === 0x0d && b.length > 1)) {
        this.buffer = b.subarray(1);
        continue;
      }
      return false;
    }
  }
}

const PING = Buffer.from('\r\n\r\n', 'latin1');
