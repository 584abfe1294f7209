/** Header collection (RFC 3261 §7.3): case-insensitive names, compact forms, order, lists. */
import { describe, expect, it } from 'vitest';
import { splitHeaderList, parseParams, parseHostPort } from '../../src/sip/header-params.js';
import { SipHeaders, canonicalHeaderName, headerKey } from '../../src/sip/headers.js';

describe('SipHeaders', () => {
  it('compares names case-insensitively and expands compact forms', () => {
    const h = new SipHeaders([['v', 'SIP/2.0/UDP a'], ['VIA', 'SIP/2.0/UDP b'], ['i', 'abc'], ['l', '0']]);
    expect(h.getAll('Via')).toEqual(['SIP/2.0/UDP a', 'SIP/2.0/UDP b']);
    expect(h.get('call-id')).toBe('abc');
    expect(h.get('Content-Length')).toBe('0');
    expect([...h].map((e) => e.name)).toEqual(['Via', 'Via', 'Call-ID', 'Content-Length']);
  });

  it('expands every compact form of RFC 3261 §7.3.3', () => {
    const pairs = { i: 'call-id', f: 'from', t: 'to', v: 'via', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported', s: 'subject', e: 'content-encoding' };
    for (const [short, long] of Object.entries(pairs)) {
      expect(headerKey(short)).toBe(long);
      expect(headerKey(short.toUpperCase())).toBe(long);
    }
  });

  it('keeps unknown names as written', () => {
    expect(canonicalHeaderName('X-Custom-thing')).toBe('X-Custom-thing');
    expect(canonicalHeaderName('cseq')).toBe('CSeq');
  });

  it('sets in place, prepends, deletes and clones', () => {
    const h = new SipHeaders([['A', '1'], ['Via', 'x'], ['X-B', '2'], ['via', 'y']]);
    h.set('VIA', 'z');
    expect([...h].map((e) => `${e.name}=${e.value}`)).toEqual(['A=1', 'Via=z', 'X-B=2']);
    h.prepend('Via', 'top');
    expect(h.get('Via')).toBe('top');
    const copy = h.clone();
    h.delete('via');
    expect(h.has('Via')).toBe(false);
    expect(copy.getAll('Via')).toEqual(['top', 'z']);
    expect(h.size).toBe(2);
  });
});

describe('header lexing', () => {
  it('splits lists on commas outside quotes and angle brackets', () => {
    expect(splitHeaderList('"Doe, John" <sip:j@x>;q=1, <sip:a@b?h=1,2>, sip:c@d')).toEqual([
      '"Doe, John" <sip:j@x>;q=1',
      '<sip:a@b?h=1,2>',
      'sip:c@d',
    ]);
    expect(splitHeaderList('"a\\", b" <sip:x@y>')).toEqual(['"a\\", b" <sip:x@y>']);
    expect(splitHeaderList(' , INVITE,,ACK ')).toEqual(['INVITE', 'ACK']);
  });

  it('parses parameters with flags, spaces and quoted values', () => {
    expect([...parseParams(';Tag=1 ; lr; x = "a;b"')!]).toEqual([['tag', '1'], ['lr', null], ['x', '"a;b"']]);
    expect(parseParams(';x="unterminated')).toBeUndefined();
    expect(parseParams(';x=')).toBeUndefined();
    expect(parseParams(';=1')).toBeUndefined();
  });

  it('parses host and port', () => {
    expect(parseHostPort('h.example:5060')).toEqual({ host: 'h.example', port: 5060 });
    expect(parseHostPort('[::1]')).toEqual({ host: '[::1]' });
    expect(parseHostPort('h:')).toBeUndefined();
    expect(parseHostPort('-bad')).toBeUndefined();
  });
});
