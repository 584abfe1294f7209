/**
 * parseSipMessage (RFC 3261 §7, §18.3, §20, §25) and serializeSipMessage: valid messages,
 * folding, compact forms, framing rules, and malformed input that must never throw.
 */
import { describe, expect, it } from 'vitest';
import { callId, contacts, contentType, cseq, fromHeader, listValues, maxForwards, toHeader, topVia, vias, type SipRequest } from '../../src/sip/message.js';
import { parseSipMessage, rejectionFor, type ParseResult } from '../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../src/sip/serialize-message.js';

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport',
  'Via: SIP/2.0/UDP proxy.example.com:5070;branch=z9hG4bK1, SIP/2.0/TCP p2.example.com;branch=z9hG4bK2',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Allow: INVITE, ACK, BYE',
  'Content-Type: application/sdp',
  'Content-Length: 4',
  '',
  'v=0\r\n',
].join('\r\n');

function parsed(text: string | Buffer, framing?: 'datagram' | 'stream') {
  const result = parseSipMessage(text, framing ? { framing } : {});
  if (!result.ok) throw new Error(`expected a message, got: ${result.error}`);
  return result.message;
}

function failure(text: string | Buffer, options = {}): Extract<ParseResult, { ok: false }> {
  const result = parseSipMessage(text, options);
  if (result.ok) throw new Error('expected a parse failure');
  return result;
}

describe('parsing valid messages', () => {
  it('reads a request line, headers and the body cut to Content-Length', () => {
    const m = parsed(INVITE) as SipRequest;
    expect(m).toMatchObject({ kind: 'request', method: 'INVITE', uri: 'sip:bob@biloxi.example.com' });
    expect(m.body.toString()).toBe('v=0\r');
    expect(vias(m).map((v) => v.host)).toEqual(['pc33.atlanta.example.com', 'proxy.example.com', 'p2.example.com']);
    expect(topVia(m)).toMatchObject({ branch: 'z9hG4bK776asdhds', rport: true });
    expect(fromHeader(m)).toMatchObject({ displayName: 'Alice', tag: '1928301774', uri: 'sip:alice@atlanta.example.com' });
    expect(toHeader(m)).toMatchObject({ displayName: 'Bob' });
    expect(toHeader(m)?.tag).toBeUndefined();
    expect(callId(m)).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(cseq(m)).toEqual({ seq: 314159, method: 'INVITE' });
    expect(contacts(m).map((c) => c.uri)).toEqual(['sip:alice@pc33.atlanta.example.com']);
    expect(maxForwards(m)).toBe(70);
    expect(contentType(m)?.mediaType).toBe('application/sdp');
    expect(listValues(m, 'allow')).toEqual(['INVITE', 'ACK', 'BYE']);
  });

  it('reads a status line with a multi-word reason, and an empty reason', () => {
    const base = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n';
    expect(parsed(`SIP/2.0 481 Call/Transaction Does Not Exist\r\n${base}`)).toMatchObject({ kind: 'response', status: 481, reason: 'Call/Transaction Does Not Exist' });
    expect(parsed(`SIP/2.0 200\r\n${base}`)).toMatchObject({ status: 200, reason: '' });
  });

  it('accepts compact forms, odd case, folded headers, leading CRLFs and bare LF line ends', () => {
    const text = [
      '\r\n\r\nOPTIONS sip:x@y SIP/2.0',
      'v: SIP/2.0/UDP h;branch=z9hG4bKa',
      'f: <sip:a@b>',
      '   ;tag=88',
      't: sip:c@d',
      'i: cid',
      'CSEQ: 2',
      '\tOPTIONS',
      'm: <sip:a@h>, "B, b" <sip:b@h>',
      'c: application/sdp; charset=utf-8',
      'k: timer, 100rel',
      's: hi',
      'e: gzip',
      'l: 0',
      '',
      '',
    ].join('\n');
    const m = parsed(text);
    expect(fromHeader(m)?.tag).toBe('88');
    expect(cseq(m)).toEqual({ seq: 2, method: 'OPTIONS' });
    expect(contacts(m).map((c) => c.displayName)).toEqual([undefined, 'B, b']);
    expect(contentType(m)?.params.get('charset')).toBe('utf-8');
    expect(listValues(m, 'Supported')).toEqual(['timer', '100rel']);
    expect(m.headers.get('Subject')).toBe('hi');
    expect(m.headers.get('Content-Encoding')).toBe('gzip');
  });

  it('takes the rest of a datagram as the body when Content-Length is absent', () => {
    const text = INVITE.replace('Content-Length: 4\r\n', '');
    expect(parsed(text).body.toString()).toBe('v=0\r\n');
  });

  it('keeps a binary body byte for byte', () => {
    const body = Buffer.from([0, 255, 13, 10, 13, 10, 128]);
    const head = Buffer.from(INVITE.replace('Content-Length: 4', `Content-Length: ${body.length}`).replace(/v=0\r\n$/, ''));
    expect(parsed(Buffer.concat([head, body])).body.equals(body)).toBe(true);
  });
});

describe('framing rules of §18.3', () => {
  it('discards a datagram whose body is shorter than Content-Length', () => {
    expect(failure(INVITE.replace('Content-Length: 4', 'Content-Length: 400')).error).toMatch(/shorter than Content-Length/);
  });

  it('requires Content-Length on a stream', () => {
    const text = INVITE.replace('Content-Length: 4\r\n', '');
    expect(failure(text, { framing: 'stream' }).error).toMatch(/missing Content-Length/);
    expect(parsed(INVITE, 'stream').body.toString()).toBe('v=0\r');
  });
});

describe('malformed input never throws', () => {
  const cases: Record<string, string | Buffer> = {
    empty: '',
    'only CRLFs': '\r\n\r\n\r\n',
    'binary garbage': Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 256)),
    'NUL bytes': Buffer.alloc(64),
    'truncated start line': 'INVITE sip:bob@',
    'truncated in headers': INVITE.slice(0, 120),
    'lower-case version': INVITE.replace('SIP/2.0\r\n', 'sip/2.0\r\n'),
    'status out of range': 'SIP/2.0 700 Weird\r\n\r\n',
    'HTTP request': 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  };
  for (const [name, input] of Object.entries(cases)) {
    it(`reports ${name}`, () => {
      const result = parseSipMessage(input);
      expect(result.ok).toBe(false);
    });
  }

  it('survives every truncation of a valid message', () => {
    for (let i = 0; i < INVITE.length; i++) {
      expect(() => parseSipMessage(INVITE.slice(0, i))).not.toThrow();
      expect(() => parseSipMessage(INVITE.slice(0, i), { framing: 'stream' })).not.toThrow();
    }
  });

  it('survives random byte flips', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bytes = Buffer.from(INVITE);
    for (let round = 0; round < 2000; round++) {
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 4; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      const result = parseSipMessage(copy);
      if (!result.ok) expect(typeof result.error).toBe('string');
    }
  });

  it('rejects a huge header section with 513 and too many headers with 413', () => {
    const huge = INVITE.replace('Max-Forwards: 70', `X-Big: ${'a'.repeat(20_000)}\r\nMax-Forwards: 70`);
    expect(failure(huge)).toMatchObject({ status: 513 });
    const many = INVITE.replace('Max-Forwards: 70', Array.from({ length: 300 }, (_, i) => `X-H${i}: 1`).join('\r\n'));
    expect(failure(many)).toMatchObject({ status: 413 });
    expect(parsed(huge.replace(/a{20000}/, 'a'))).toBeTruthy();
  });

  it('answers a header section over the limit with 513, copying only what a response needs (§8.2.6.2)', () => {
    const huge = INVITE.replace('Max-Forwards: 70', `X-Big: ${'a'.repeat(20_000)}\r\nMax-Forwards: 70`);
    const response = rejectionFor(parseSipMessage(huge));
    expect(response).toMatchObject({ status: 513, reason: 'Message Too Large (header section larger than 16384 bytes)' });
    expect(response?.headers.getAll('Via')).toHaveLength(3);
    expect(response?.headers.get('CSeq')).toBe('314159 INVITE');
    expect(response?.headers.get('Call-ID')).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(response?.headers.has('X-Big')).toBe(false);
    // No answer when the start line is unreadable, when a header a response copies is missing
    // or broken, or when those alone are over the limit.
    expect(rejectionFor(parseSipMessage(huge.replace(/^INVITE .*\r\n/, 'GARBAGE\r\n')))).toBeUndefined();
    expect(rejectionFor(parseSipMessage(huge.replace(/Call-ID: .*\r\n/, '')))).toBeUndefined();
    expect(rejectionFor(parseSipMessage(huge.replace(/CSeq: .*\r\n/, 'CSeq: x\r\n')))).toBeUndefined();
    const hugeVia = INVITE.replace('Max-Forwards: 70', `Via: SIP/2.0/UDP ${'a'.repeat(20_000)}.example.com;branch=z9hG4bKbig`);
    expect(rejectionFor(parseSipMessage(hugeVia))).toBeUndefined();
  });

  it.each([
    ['Via', /missing Via/],
    ['From', /missing From/],
    ['To', /missing To/],
    ['Call-ID', /missing Call-ID/],
    ['CSeq', /missing CSeq/],
  ])('reports a missing %s', (name, error) => {
    const text = INVITE.split('\r\n').filter((line) => !line.startsWith(`${name}:`)).join('\r\n');
    expect(failure(text).error).toMatch(error);
  });

  it.each([
    ['CSeq: 314159 INVITE', 'CSeq: abc INVITE', /malformed CSeq/],
    ['CSeq: 314159 INVITE', 'CSeq: 314159 BYE', /CSeq method does not match/],
    ['CSeq: 314159 INVITE', 'CSeq: 99999999999 INVITE', /malformed CSeq/],
    ['Max-Forwards: 70', 'Max-Forwards: seventy', /malformed Max-Forwards/],
    ['Content-Length: 4', 'Content-Length: -4', /malformed Content-Length/],
    ['To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi', /malformed To/],
    ['Call-ID: a84b4c76e66710@pc33.atlanta.example.com', 'Call-ID: a b', /malformed Call-ID/],
    ['Max-Forwards: 70', 'Max-Forwards 70', /malformed header line/],
    ['Max-Forwards: 70', 'Call-ID: second', /more than one call-id/],
    ['Via: SIP/2.0/UDP pc33', 'Via: SIP/2.0/XX/UDP pc33', /malformed Via/],
    ['INVITE sip:bob@biloxi.example.com', 'INVITE bob@biloxi.example.com', /malformed Request-URI/],
  ])('reports %s → %s', (from, to, error) => {
    expect(failure(INVITE.replace(from, to)).error).toMatch(error);
  });

  it('answers 505 to an unsupported version', () => {
    expect(failure(INVITE.replace(' SIP/2.0\r\n', ' SIP/3.0\r\n'))).toMatchObject({ status: 505 });
  });
});

describe('rejectionFor', () => {
  it('builds a 400 that copies Via, From, To, Call-ID and CSeq', () => {
    const result = parseSipMessage(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: lots'));
    const response = rejectionFor(result)!;
    expect(response.status).toBe(400);
    expect(response.reason).toMatch(/^Bad Request \(malformed Max-Forwards\)$/);
    expect(response.headers.getAll('Via')).toHaveLength(3);
    expect(callId(response)).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(response.headers.get('CSeq')).toBe('314159 INVITE');
  });

  it('answers a bad CSeq with its raw value copied', () => {
    const response = rejectionFor(parseSipMessage(INVITE.replace('CSeq: 314159 INVITE', 'CSeq: x INVITE')));
    expect(response?.headers.get('CSeq')).toBe('x INVITE');
  });

  it('cannot answer garbage, responses, ACKs or requests without Via', () => {
    expect(rejectionFor(parseSipMessage('garbage'))).toBeUndefined();
    expect(rejectionFor(parseSipMessage(INVITE))).toBeUndefined();
    expect(rejectionFor(parseSipMessage('SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n'))).toBeUndefined();
    const ack = INVITE.replace('INVITE sip', 'ACK sip').replace('CSeq: 314159 INVITE', 'CSeq: 314159 ACK').replace('Max-Forwards: 70', 'Max-Forwards: x');
    expect(rejectionFor(parseSipMessage(ack))).toBeUndefined();
    const noVia = INVITE.split('\r\n').filter((line) => !line.startsWith('Via:')).join('\r\n');
    expect(rejectionFor(parseSipMessage(noVia))).toBeUndefined();
  });
});

describe('serializeSipMessage', () => {
  it('round-trips a parsed message and rewrites Content-Length from the body', () => {
    const m = parsed(INVITE);
    m.body = Buffer.from('v=0\r\no=- 1 1 IN IP4 h\r\n');
    const again = parsed(serializeSipMessage(m), 'stream') as SipRequest;
    expect(again.method).toBe('INVITE');
    expect(again.headers.get('Content-Length')).toBe(String(m.body.length));
    expect(again.body.equals(m.body)).toBe(true);
    expect([...again.headers].map((h) => h.name)).toEqual([...m.headers].map((h) => h.name));
  });

  it('replaces a compact or stale Content-Length', () => {
    const m = parsed(INVITE);
    m.headers.delete('Content-Length');
    m.headers.append('l', '999');
    const text = serializeSipMessage(m).toString();
    expect(text.match(/Content-Length/g)).toHaveLength(1);
    expect(text).toContain('Content-Length: 4\r\n');
  });

  it('writes one header per line and strips CR/LF from values', () => {
    const m = parsed(INVITE);
    m.headers.append('Subject', 'a\r\nInjected: yes');
    const text = serializeSipMessage(m).toString();
    expect(text).toContain('Subject: a Injected: yes\r\n');
    expect(text.startsWith('INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33')).toBe(true);
    expect(text).toMatch(/\r\n\r\nv=0\r$/);
  });
});
