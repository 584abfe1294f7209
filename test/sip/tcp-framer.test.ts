/** SipTcpFramer (RFC 3261 §18.3 framing by Content-Length, RFC 5626 §3.5.1 CRLF keep-alive). */
import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { SipTcpFramer, type FramerOutput } from '../../src/sip/tcp-framer.js';

function message(body: string, cseq = 1): string {
  return [
    'MESSAGE sip:bob@b SIP/2.0',
    'Via: SIP/2.0/TCP h;branch=z9hG4bK' + cseq,
    'From: <sip:a@h>;tag=1',
    'To: <sip:bob@b>',
    'Call-ID: c',
    `CSeq: ${cseq} MESSAGE`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function texts(outputs: FramerOutput[]): string[] {
  return outputs.map((o) => (o.type === 'message' ? o.data.toString() : o.type === 'error' ? `error: ${o.reason}` : 'keep-alive'));
}

describe('SipTcpFramer', () => {
  it('splits back-to-back messages, bodies included', () => {
    const framer = new SipTcpFramer();
    const a = message('hello');
    const b = message('wörld\r\n\r\nwith blank lines', 2);
    expect(texts(framer.push(Buffer.from(a + b)))).toEqual([a, b]);
    expect(framer.buffered).toBe(0);
  });

  it('reassembles a message fed one byte at a time', () => {
    const framer = new SipTcpFramer();
    const bytes = Buffer.from(message('body') + message('again', 2));
    const out: FramerOutput[] = [];
    for (const byte of bytes) out.push(...framer.push(Buffer.from([byte])));
    expect(texts(out)).toEqual([message('body'), message('again', 2)]);
    for (const o of out) if (o.type === 'message') expect(parseSipMessage(o.data, { framing: 'stream' }).ok).toBe(true);
  });

  it('reports double-CRLF pings, also split across chunks, and skips single CRLFs', () => {
    const framer = new SipTcpFramer();
    expect(texts(framer.push(Buffer.from('\r\n\r\n\r\n\r\n')))).toEqual(['keep-alive', 'keep-alive']);
    expect(texts(framer.push(Buffer.from('\r\n')))).toEqual([]);
    expect(texts(framer.push(Buffer.from('\r\n')))).toEqual(['keep-alive']);
    expect(texts(framer.push(Buffer.from('\r\n' + message('x'))))).toEqual([message('x')]);
    expect(texts(framer.push(Buffer.from('\n' + message('y'))))).toEqual([message('y')]);
  });

  it('reads a compact Content-Length and a zero-length body', () => {
    const framer = new SipTcpFramer();
    const text = message('').replace('Content-Length: 0', 'l:0');
    expect(texts(framer.push(Buffer.from(text)))).toEqual([text]);
  });

  it('waits for the body', () => {
    const framer = new SipTcpFramer();
    const text = message('0123456789');
    expect(framer.push(Buffer.from(text.slice(0, -3)))).toEqual([]);
    expect(texts(framer.push(Buffer.from(text.slice(-3))))).toEqual([text]);
  });

  it('fails on a missing Content-Length and then stays closed', () => {
    const framer = new SipTcpFramer();
    const text = message('x').replace(/Content-Length: 1\r\n/, '');
    expect(texts(framer.push(Buffer.from(text)))).toEqual(['error: missing or malformed Content-Length on a stream']);
    expect(framer.closed).toBe(true);
    expect(framer.push(Buffer.from(message('y')))).toEqual([]);
  });

  it('bounds a header section that never ends', () => {
    const framer = new SipTcpFramer({ maxMessageBytes: 1024 });
    expect(framer.push(Buffer.from('INVITE sip:x SIP/2.0\r\n'))).toEqual([]);
    let out: FramerOutput[] = [];
    for (let i = 0; i < 100 && out.length === 0; i++) out = framer.push(Buffer.from('X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n'));
    expect(texts(out)).toEqual(['error: header section larger than 1024 bytes']);
    expect(framer.buffered).toBe(0);
  });

  it('stops at maxHeaderBytes and hands back the start of the message for a 513', () => {
    const framer = new SipTcpFramer({ maxHeaderBytes: 512 });
    const start = 'INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKa\r\n';
    expect(framer.push(Buffer.from(start))).toEqual([]);
    const out = framer.push(Buffer.from(`X-Big: ${'a'.repeat(600)}\r\n`));
    expect(out).toHaveLength(1);
    const [error] = out;
    expect(error?.type === 'error' && error.reason).toBe('header section larger than 512 bytes');
    const head = error?.type === 'error' ? error.tooLarge?.head : undefined;
    expect(head?.length).toBe(512);
    expect(head?.toString('latin1').startsWith(start)).toBe(true);
    expect(framer.closed).toBe(true);
  });

  it('waits for the empty line while a header section may still fit, to the byte', () => {
    const text = message('');
    const headerBytes = text.indexOf('\r\n\r\n');
    const framer = new SipTcpFramer({ maxHeaderBytes: headerBytes });
    expect(framer.push(Buffer.from(text.slice(0, -1)))).toEqual([]);
    expect(texts(framer.push(Buffer.from(text.slice(-1))))).toEqual([text]);
    const tight = new SipTcpFramer({ maxHeaderBytes: headerBytes - 1 });
    expect(texts(tight.push(Buffer.from(text)))).toEqual([`error: header section larger than ${headerBytes - 1} bytes`]);
  });

  it('rejects a Content-Length beyond the bound before buffering the body', () => {
    const framer = new SipTcpFramer({ maxMessageBytes: 1024 });
    const head = message('').replace('Content-Length: 0', 'Content-Length: 5000');
    expect(texts(framer.push(Buffer.from(head)))).toEqual(['error: message larger than 1024 bytes']);
  });

  it('hands a message that fits exactly', () => {
    const text = message('abc');
    const framer = new SipTcpFramer({ maxMessageBytes: Buffer.byteLength(text) });
    expect(texts(framer.push(Buffer.from(text)))).toEqual([text]);
  });
});
