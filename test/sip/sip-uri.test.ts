/** sip:/sips: URIs (RFC 3261 §19.1): parts, parameters, headers, round trip, rejects. */
import { describe, expect, it } from 'vitest';
import { parseSipUri, serializeSipUri } from '../../src/sip/sip-uri.js';

describe('parseSipUri', () => {
  it('reads user, host, port, parameters and headers', () => {
    const uri = parseSipUri('sip:alice:secret@example.com:5070;transport=tcp;lr?subject=hi&priority=urgent');
    expect(uri).toMatchObject({ scheme: 'sip', user: 'alice', password: 'secret', host: 'example.com', port: 5070 });
    expect([...uri!.params]).toEqual([['transport', 'tcp'], ['lr', null]]);
    expect([...uri!.headers]).toEqual([['subject', 'hi'], ['priority', 'urgent']]);
  });

  it('reads a host-only sips URI and an IPv6 host', () => {
    expect(parseSipUri('sips:example.com')).toMatchObject({ scheme: 'sips', host: 'example.com' });
    expect(parseSipUri('sip:bob@[2001:db8::1]:5062')).toMatchObject({ user: 'bob', host: '[2001:db8::1]', port: 5062 });
    expect(parseSipUri('SIP:bob@10.0.0.1')).toMatchObject({ scheme: 'sip', host: '10.0.0.1' });
  });

  it('keeps user parameters of telephone numbers in the user part', () => {
    const uri = parseSipUri('sip:+1-212-555-1212;phone-context=x@gw.example.com;user=phone');
    expect(uri?.user).toBe('+1-212-555-1212;phone-context=x');
    expect(uri?.params.get('user')).toBe('phone');
  });

  it('lower-cases parameter names', () => {
    expect(parseSipUri('sip:a@b;Transport=UDP')?.params.get('transport')).toBe('UDP');
  });

  it.each(['', 'tel:+123', 'sip:', 'sip:@host', 'sip:a@', 'sip:a@host:99999', 'sip:a@host:x', 'sip:a@ho st', 'sip:a@[::1', 'sip:a@b?x', 'http://x'])(
    'rejects %j',
    (text) => expect(parseSipUri(text)).toBeUndefined(),
  );

  it('round-trips through serializeSipUri', () => {
    for (const text of ['sip:alice@example.com', 'sips:a:p@h:5061;transport=tls;lr', 'sip:h?x=1&y=2', 'sip:[::1]:5060']) {
      expect(serializeSipUri(parseSipUri(text)!)).toBe(text);
    }
  });
});
