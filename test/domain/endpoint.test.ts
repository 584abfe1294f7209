/** parseEndpoint: simulated endpoints with their behaviour, voice and ear; SIP URIs; numbers. */
import { describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/domain/endpoint.js';

describe('parseEndpoint', () => {
  it('reads a simulated endpoint with its ringing, outcome, hang-up, voice and recording', () => {
    expect(parseEndpoint('sim:alice;ring=3;hangup=30;tone=400;record')).toMatchObject({
      kind: 'sim',
      name: 'alice',
      ringSeconds: 3,
      outcome: 'answer',
      hangupAfterSeconds: 30,
      voice: { toneHz: 400 },
      record: true,
    });
    expect(parseEndpoint('sim:bob;busy')).toMatchObject({ outcome: 'busy', voice: null, record: false });
    expect(parseEndpoint('sim:carol;play=https%3A%2F%2Fexample.test%2Fa.wav%3Fx%3D1%3By')).toMatchObject({
      voice: { playUrl: 'https://example.test/a.wav?x=1;y' },
    });
  });

  it('reads SIP URIs, numbers and clients', () => {
    expect(parseEndpoint('sip:bob@192.0.2.10:5070;transport=tcp')).toEqual({ kind: 'sip', uri: 'sip:bob@192.0.2.10:5070;transport=tcp' });
    expect(parseEndpoint('+15005550006')).toEqual({ kind: 'number', number: '+15005550006' });
    expect(parseEndpoint('client:jane')).toEqual({ kind: 'client', identity: 'jane' });
  });

  it.each([
    ['sim:', /no valid name/],
    ['sim:a;busy;fail', /more than one/],
    ['sim:a;ring=-1', /ring=-1 must be a number of seconds/],
    ['sim:a;tone=5000', /tone=5000 must be a frequency from 20 to 3900 Hz/],
    ['sim:a;tone=', /must be a frequency/],
    ['sim:a;tone=400;play=https%3A%2F%2Fx', /either tone= or play=/],
    ['sim:a;play=ftp%3A%2F%2Fx', /must be an http\(s\) URL/],
    ['sim:a;play=%E0%A4%A', /not a valid percent-encoded URL/],
    ['alice', /not an endpoint Conclave knows/],
  ])('says what is wrong with %s', (value, message) => {
    const parsed = parseEndpoint(value);
    expect(typeof parsed).toBe('string');
    expect(parsed).toMatch(message);
  });
});
