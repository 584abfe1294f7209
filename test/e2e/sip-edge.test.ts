/**
 * Conclave's SIP port as a stranger sees it: raw datagrams on real UDP. Garbage is dropped,
 * broken requests get 400, an offer without G.711 gets 488, a user nobody owns gets 404,
 * OPTIONS gets 200 — and through all of it the server keeps answering calls.
 */
import dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipPhone } from '../helpers/sip-phone.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/until.js';

const NUMBER = '+15005550111';

function request(method: string, uri: string, port: number, body = '', extra: string[] = []): string {
  const branch = `z9hG4bK${Math.random().toString(16).slice(2)}`;
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:stranger@127.0.0.1:${port}>;tag=s1`,
    `To: <${uri}>`,
    `Call-ID: ${branch}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:stranger@127.0.0.1:${port}>`,
    ...extra,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function sdp(payloads: string, rtpmaps: string[]): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio 40000 RTP/AVP ${payloads}`, ...rtpmaps, ''].join('\r\n');
}

describe('the SIP port under strange input', () => {
  let t: TestApp;
  let web: Receiver;
  let socket: dgram.Socket;
  const replies: string[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    web = await startReceiver((_r, response) => answer(response, 200, 'text/xml', '<Response><Dial><Conference>edge</Conference></Dial></Response>'));
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/v` } });
    socket = dgram.createSocket('udp4');
    socket.on('message', (m) => replies.push(m.toString('latin1')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    replies.length = 0;
  });
  afterEach(async () => {
    socket.close();
    await t.close();
    await web.close();
  });

  const sipPort = (): number => t.app.sipAddress()!.port;
  const send = (text: string | Buffer): void => socket.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, sipPort(), '127.0.0.1');

  /** The first final (or given) status line answering a request with this method. */
  async function answered(method: string, status = /SIP\/2\.0 [2-6]\d\d/): Promise<string> {
    const found = await until(
      () => replies.find((r) => status.test(r.split('\r\n')[0]!) && r.includes(` ${method}\r\n`)),
      5000,
      () => `an answer to ${method}; got ${replies.map((r) => r.split('\r\n')[0]).join(' | ')}`,
    );
    return found.split('\r\n')[0]!;
  }

  it('answers or drops everything strange, and still takes calls afterwards', async () => {
    const port = socket.address().port;
    const target = `sip:${NUMBER}@127.0.0.1:${sipPort()}`;

    send(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]));
    send('INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n');
    send(request('OPTIONS', target, port));
    expect(await answered('OPTIONS')).toBe('SIP/2.0 200 OK');

    replies.length = 0;
    send(request('INVITE', target, port, sdp('96', ['a=rtpmap:96 opus/48000/2'])));
    expect(await answered('INVITE')).toMatch(/^SIP\/2\.0 488/);

    replies.length = 0;
    send(request('INVITE', `sip:nobody@127.0.0.1:${sipPort()}`, port, sdp('0', ['a=rtpmap:0 PCMU/8000'])));
    expect(await answered('INVITE')).toMatch(/^SIP\/2\.0 404/);

    replies.length = 0;
    send(request('INVITE', `sip:+15005550199@127.0.0.1:${sipPort()}`, port, sdp('0', ['a=rtpmap:0 PCMU/8000'])));
    expect(await answered('INVITE')).toMatch(/^SIP\/2\.0 404/);

    replies.length = 0;
    send(request('INVITE', target, port, 'this is not SDP at all'));
    expect(await answered('INVITE')).toMatch(/^SIP\/2\.0 (400|488)/);

    replies.length = 0;
    send(request('BYE', target, port));
    expect(await answered('BYE')).toMatch(/^SIP\/2\.0 481/);

    replies.length = 0;
    send(request('REGISTER', `sip:127.0.0.1:${sipPort()}`, port, '', ['Expires: 3600']));
    expect(await answered('REGISTER')).toMatch(/^SIP\/2\.0 (405|501)/);

    // After all that, a real phone still gets in.
    const phone = await SipPhone.open('after', 400);
    try {
      const joined = t.app.bus.next((e) => e.type === 'join');
      await phone.dial(target);
      await joined;
    } finally {
      await phone.close();
    }
  });
});
