/** Typed header values: Via (§20.42, RFC 3581), name-addr (§20.10), CSeq (§20.16). */
import { describe, expect, it } from 'vitest';
import { parseCSeq, parseNameAddr, parseVia, sentBy, serializeNameAddr, serializeVia } from '../../src/sip/header-values.js';

describe('parseVia', () => {
  it('reads transport, sent-by, branch, received and rport', () => {
    const via = parseVia('SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK776;received=198.51.100.7;rport=40000');
    expect(via).toMatchObject({ transport: 'UDP', host: '192.0.2.1', port: 5062, branch: 'z9hG4bK776', received: '198.51.100.7', rport: 40000 });
  });

  it('reads an rport flag, LWS in the protocol and a lower-case transport', () => {
    const via = parseVia('SIP / 2.0 / tcp  client.example ;rport;branch=z9hG4bKx');
    expect(via).toMatchObject({ transport: 'TCP', host: 'client.example', rport: true, branch: 'z9hG4bKx' });
    expect(via?.port).toBeUndefined();
    expect(sentBy(via!)).toBe('client.example:5060');
  });

  it.each(['', 'SIP/2.0 host', 'SIP/3.0/UDP host', 'SIP/2.0/UDP', 'SIP/2.0/UDP host:abc', 'SIP/2.0/UDP host;rport=x', 'SIP/2.0/UDP h;branch='])(
    'rejects %j',
    (text) => expect(parseVia(text)).toBeUndefined(),
  );

  it('serialises back', () => {
    const text = 'SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport';
    expect(serializeVia(parseVia(text)!)).toBe(text);
  });
});

describe('parseNameAddr', () => {
  it('reads quoted display names with escapes and header parameters', () => {
    const addr = parseNameAddr('"Alice \\"A\\" Liddell" <sip:alice@example.com;transport=tcp>;tag=1928301774');
    expect(addr).toMatchObject({ displayName: 'Alice "A" Liddell', uri: 'sip:alice@example.com;transport=tcp', tag: '1928301774' });
    expect(addr?.sipUri?.params.get('transport')).toBe('tcp');
  });

  it('reads token display names and bare addr-specs whose parameters belong to the header', () => {
    expect(parseNameAddr('Bob <sip:bob@b.example>')).toMatchObject({ displayName: 'Bob', uri: 'sip:bob@b.example' });
    const bare = parseNameAddr('sip:carol@c.example;tag=xyz');
    expect(bare).toMatchObject({ uri: 'sip:carol@c.example', tag: 'xyz' });
    expect(bare?.displayName).toBeUndefined();
  });

  it('accepts non-sip schemes without a parsed sipUri', () => {
    const addr = parseNameAddr('<tel:+15551234>;tag=a');
    expect(addr).toMatchObject({ uri: 'tel:+15551234', tag: 'a' });
    expect(addr?.sipUri).toBeUndefined();
  });

  it.each(['', '<sip:a@b', '"unterminated <sip:a@b>', 'just text', '<sip:a@b> junk', '"A" sip:a@b', '<>'])(
    'rejects %j',
    (text) => expect(parseNameAddr(text)).toBeUndefined(),
  );

  it('serialises with quotes and escapes', () => {
    const addr = parseNameAddr('"A \\"x\\"" <sip:a@b>;tag=1')!;
    expect(serializeNameAddr(addr)).toBe('"A \\"x\\"" <sip:a@b>;tag=1');
  });
});

describe('parseCSeq', () => {
  it('reads number and method', () => {
    expect(parseCSeq(' 4711  INVITE ')).toEqual({ seq: 4711, method: 'INVITE' });
    expect(parseCSeq('2147483647 BYE')).toEqual({ seq: 2 ** 31 - 1, method: 'BYE' });
  });

  it.each(['', 'INVITE', '1', 'x INVITE', '-1 BYE', '2147483648 BYE', '12345678901 BYE', '1 IN VITE', '1 INV@'])(
    'rejects %j',
    (text) => expect(parseCSeq(text)).toBeUndefined(),
  );
});
