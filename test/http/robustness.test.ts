/**
 * Nothing a client sends makes the server answer 500 or fall over. Unknown form fields are
 * ignored (as Twilio ignores them); bad values of known fields are 400 with a Twilio code and a
 * message naming the field; bodies that are not form-encoded are 415 and oversized ones 413, both
 * Twilio-shaped; broken or huge paths and unknown resources are answered, not crashed on;
 * non-ASCII labels and names round-trip. Ends with a bounded burst of mixed bad requests after
 * which a normal fetch still works.
 */
import net from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsPath, conferencePath, conferencesPath, participantPath, participantsPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type HttpResult, type RequestOptions, type TestApp } from '../helpers/test-app.js';
import { NO_LOGIN_THROTTLE } from './edge-client.js';

type Json = Record<string, unknown>;

/** A Twilio RestException in JSON: exactly code, message, more_info, status. */
function expectJsonError(res: HttpResult, status: number, messagePart?: string): Json {
  expect(res.status, res.body).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'more_info', 'status']);
  expect(body.status).toBe(status);
  expect(typeof body.code).toBe('number');
  expect(body.more_info).toBe(`https://www.twilio.com/docs/errors/${String(body.code)}`);
  if (messagePart !== undefined) expect(body.message).toContain(messagePart);
  return body;
}

/** A Twilio RestException in XML. */
function expectXmlError(res: HttpResult, status: number): void {
  expect(res.status, res.body).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
  const parsed = new XMLParser().parse(res.body) as { TwilioResponse?: { RestException?: Json } };
  const exception = parsed.TwilioResponse?.RestException;
  expect(exception).toBeDefined();
  expect(exception!.Status).toBe(status);
  expect(typeof exception!.Code).toBe('number');
  expect(typeof exception!.Message).toBe('string');
}

/** Sends raw bytes on a new connection and resolves with whatever comes back before it closes. */
function rawExchange(baseUrl: string, payload: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', (error) => (received ? resolve(received) : reject(error)));
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve(received);
    });
    socket.write(payload);
  });
}

describe.each(STORE_KINDS)('robustness on %s', (kind) => {
  let t: TestApp;
  let ac: string;
  let cf: string;
  let call: string;
  let other: string;

  beforeAll(async () => {
    // The hostile burst below sends wrong credentials; their throttle is login-throttle.test.ts's subject.
    t = await startTestApp(kind, { httpLimits: NO_LOGIN_THROTTLE });
    ac = t.accountSid;
    const first = await t.join('robust room', { label: 'first' });
    const second = await t.join('robust room');
    cf = first.conference.sid;
    call = first.participant.callSid;
    other = second.participant.callSid;
  });
  afterAll(async () => t?.close());

  describe('form fields', () => {
    it('unknown form fields are ignored', async () => {
      const participant = await t.request('POST', `${participantPath(ac, cf, call)}.json`, {
        form: { Mute: 'true', Foo: 'bar', 'Weird Name[]': 'x', '': 'empty key' },
      });
      expect(participant.status).toBe(200);
      expect(participant.json()).toMatchObject({ call_sid: call, muted: false });

      const conference = await t.request('POST', `${conferencePath(ac, cf)}.json`, { form: { Stauts: 'completed', FriendlyName: 'renamed?' } });
      expect(conference.status).toBe(200);
      expect(conference.json()).toMatchObject({ sid: cf, status: 'in-progress', friendly_name: 'robust room' });

      const account = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'ignores extras', Type: 'Trial', AuthToken: 'mine' } });
      expect(account.status).toBe(201);
      expect(account.json().auth_token).not.toBe('mine');

      const list = await t.request('GET', `${conferencesPath(ac)}.json?Unknown=1&friendlyname=lowercase&PageSize=5`);
      expect(list.status).toBe(200);
      expect(list.json<{ conferences: Json[] }>().conferences.length).toBeGreaterThan(0);
    });

    it('keys named like Object.prototype members, in forms and queries, do no harm', async () => {
      const body = '__proto__=a&__proto__=b&constructor=1&constructor=2&toString=x&toString=y&hasOwnProperty=1&Muted=true';
      const res = await t.request('POST', `${participantPath(ac, cf, other)}.json`, {
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(200);
      expect(res.json().muted).toBe(true);
      await t.request('POST', `${participantPath(ac, cf, other)}.json`, { form: { Muted: 'false' } });

      const query = '__proto__=a&__proto__=b&constructor=x&toString=1&toString=2&valueOf=3&Status=in-progress';
      const list = await t.request('GET', `${conferencesPath(ac)}.json?${query}`);
      expect(list.status).toBe(200);
      const account = await t.request('POST', `${accountsPath}/${ac}.json`, {
        body: '__proto__=x&__proto__=y&toString=z',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(account.status).toBe(200);
    });

    it('a repeated scalar field takes its last value', async () => {
      const res = await t.request('GET', `${conferencesPath(ac)}.json?PageSize=7&PageSize=2`);
      expect(res.status).toBe(200);
      expect(res.json().page_size).toBe(2);
    });
  });

  describe('bad values of known fields: 400 with a code and a message naming the field', () => {
    const lists = (): string[] => [
      `${conferencesPath(ac)}.json`,
      `${participantsPath(ac, cf)}.json`,
      `${accountsPath}.json`,
      `${accountsPath}/${ac}/Keys.json`,
    ];

    it.each([
      ['PageSize', '0'],
      ['PageSize', '1001'],
      ['PageSize', 'abc'],
      ['PageSize', '-5'],
      ['PageSize', '1.5'],
      ['PageSize', '99999999999999999999999'],
      ['Page', '-1'],
      ['Page', 'two'],
      ['PageToken', 'garbage'],
      ['PageToken', 'PA'],
      ['PageToken', `PA${'9'.repeat(40)}`],
      ['PageToken', 'PZ12'],
    ])('%s=%s on every list', async (name, value) => {
      for (const path of lists()) {
        const res = await t.request('GET', `${path}?${name}=${encodeURIComponent(value)}`);
        const body = expectJsonError(res, 400, name);
        expect(body.code).toBe(20001);
      }
    });

    it('PageSize=1000 and Page=0 are fine', async () => {
      expect((await t.request('GET', `${conferencesPath(ac)}.json?PageSize=1000&Page=0`)).status).toBe(200);
      expect((await t.request('GET', `${conferencesPath(ac)}.json?PageSize=1&Page=0`)).status).toBe(200);
    });

    it('Status=bogus on the conference list', async () => {
      expectJsonError(await t.request('GET', `${conferencesPath(ac)}.json?Status=bogus`), 400, 'Status');
      expectXmlError(await t.request('GET', `${conferencesPath(ac)}?Status=bogus`), 400);
    });

    it('Hold=maybe and CallSidToCoach=xyz on a participant', async () => {
      expectJsonError(await t.request('POST', `${participantPath(ac, cf, call)}.json`, { form: { Hold: 'maybe' } }), 400, 'Hold');
      expectJsonError(await t.request('POST', `${participantPath(ac, cf, call)}.json`, { form: { CallSidToCoach: 'xyz' } }), 400, 'CallSidToCoach');
      expectJsonError(await t.request('POST', `${participantPath(ac, cf, call)}.json`, { form: { Coaching: 'yes' } }), 400, 'Coaching');
      expectJsonError(await t.request('POST', `${participantPath(ac, cf, call)}.json`, { form: { EndConferenceOnExit: '1' } }), 400, 'EndConferenceOnExit');
      expectJsonError(await t.request('GET', `${participantsPath(ac, cf)}.json?Muted=perhaps`), 400, 'Muted');
      expectXmlError(await t.request('POST', participantPath(ac, cf, call), { form: { Hold: 'maybe' } }), 400);
      // Nothing changed.
      expect((await t.request('GET', `${participantPath(ac, cf, call)}.json`)).json()).toMatchObject({ hold: false, coaching: false });
    });

    it('a NUL character in a field value is a 400 naming the field, in forms and queries', async () => {
      expectJsonError(await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'a\u0000b' } }), 400, 'FriendlyName');
      expectJsonError(await t.request('POST', `${accountsPath}/${ac}.json`, { form: { FriendlyName: '\u0000' } }), 400, 'FriendlyName');
      expectJsonError(await t.request('POST', `${accountsPath}/${ac}/Keys.json`, { form: { FriendlyName: 'k\u0000' } }), 400, 'FriendlyName');
      expectJsonError(await t.request('GET', `${conferencesPath(ac)}.json?FriendlyName=%00`), 400, 'FriendlyName');
      expectJsonError(await t.request('GET', `${accountsPath}.json?FriendlyName=x%00y`), 400, 'FriendlyName');
      expectJsonError(await t.request('GET', `${conferencesPath(ac)}.json?Status=%00`), 400, 'Status');
      expectJsonError(await t.request('POST', `${participantPath(ac, cf, call)}.json`, { form: { Hold: 'true\u0000' } }), 400, 'Hold');
      expectJsonError(await t.request('GET', `${conferencesPath(ac)}.json?PageToken=PA1%00`), 400, 'PageToken');
      // An unknown field may hold one: it is ignored like any unknown field.
      expect((await t.request('POST', `${conferencePath(ac, cf)}.json`, { form: { Other: '\u0000' } })).status).toBe(200);
    });

    it('FriendlyName too long on accounts and keys', async () => {
      expectJsonError(await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'n'.repeat(10_000) } }), 400, 'FriendlyName');
      expectJsonError(await t.request('POST', `${accountsPath}/${ac}/Keys.json`, { form: { FriendlyName: 'n'.repeat(10_000) } }), 400, 'FriendlyName');
    });
  });

  describe('bodies', () => {
    it('a JSON body is refused with 415, Twilio-shaped, and not applied', async () => {
      const json = { body: JSON.stringify({ Status: 'completed' }), headers: { 'content-type': 'application/json' } };
      const res = await t.request('POST', `${conferencePath(ac, cf)}.json`, json);
      const body = expectJsonError(res, 415, 'Content-Type');
      expect(body.code).toBe(20001);
      expectXmlError(await t.request('POST', conferencePath(ac, cf), json), 415);
      const renamed = await t.request('POST', `${accountsPath}/${ac}.json`, {
        body: JSON.stringify({ FriendlyName: 'json rename' }),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expectJsonError(renamed, 415);
      expect((await t.request('GET', `${conferencePath(ac, cf)}.json`)).json().status).toBe('in-progress');
      expect((await t.request('GET', `${accountsPath}/${ac}.json`)).json().friendly_name).not.toBe('json rename');
    });

    it('other content types (text, multipart, none) with a body are 415 too', async () => {
      for (const contentType of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream']) {
        const res = await t.request('POST', `${participantPath(ac, cf, call)}.json`, { body: 'Hold=true', headers: { 'content-type': contentType } });
        expectJsonError(res, 415);
      }
      // fetch labels a string body text/plain; a bare body with no Content-Type at all goes through a raw socket.
      const raw = await rawExchange(
        t.baseUrl,
        `POST ${participantPath(ac, cf, call)}.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from(`${ac}:${t.authToken}`).toString('base64')}\r\n` +
          'Content-Length: 9\r\nConnection: close\r\n\r\nHold=true',
      );
      expect(raw).toMatch(/^HTTP\/1\.1 415 /);
      expect((await t.request('GET', `${participantPath(ac, cf, call)}.json`)).json().hold).toBe(false);
    });

    it('an empty body is fine whatever its Content-Type', async () => {
      for (const contentType of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
        const res = await t.request('POST', `${conferencePath(ac, cf)}.json`, { body: '', headers: { 'content-type': contentType } });
        expect(res.status, contentType).toBe(200);
      }
    });

    it('a huge body is 413, Twilio-shaped', async () => {
      const huge = 'x'.repeat(2 * 1024 * 1024);
      expectJsonError(await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: huge } }), 413);
      expectXmlError(await t.request('POST', accountsPath, { form: { FriendlyName: huge } }), 413);
      expectJsonError(await t.request('POST', `${conferencePath(ac, cf)}.json`, { form: { Junk: huge } }), 413);
      const hugeJson = await t.request('POST', `${conferencePath(ac, cf)}.json`, { body: huge, headers: { 'content-type': 'application/json' } });
      expect([413, 415]).toContain(hugeJson.status);
      expectJsonError(hugeJson, hugeJson.status);
    });

    it('a form body with broken percent-encoding is read literally, not a crash', async () => {
      const res = await t.request('POST', `${accountsPath}.json`, {
        body: 'FriendlyName=100%25%20sure%ZZ%',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(201);
      expect(res.json().friendly_name).toBe('100% sure%ZZ%');
    });
  });

  describe('paths', () => {
    it('unknown paths under /2010-04-01 are 404 / 20404, Twilio-shaped, in JSON and XML', async () => {
      const paths = [
        `/2010-04-01/Accounts/${ac}/Queues`,
        `/2010-04-01/Accounts/${ac}/Conferences/${cf}/Participants/${call}/Extra`,
        '/2010-04-01/Nope',
        '/2010-04-01',
        '/2010-04-01/',
        `/2010-04-01/Accounts/${ac}/Conferences/${cf}/Recordings/RE0123456789abcdef0123456789abcdef/Transcriptions`,
        '/2008-08-01/Accounts',
      ];
      for (const path of paths) {
        const json = await t.request('GET', `${path.replace(/\/$/, '')}.json`);
        const body = expectJsonError(json, 404);
        expect(body.code).toBe(20404);
        expect(body.message).toBe(`The requested resource ${path.replace(/\/$/, '')}.json was not found`);
        expectXmlError(await t.request('GET', path), 404);
        expectJsonError(await t.request('POST', `${path.replace(/\/$/, '')}.json`, { form: { X: '1' }, auth: null }), 404);
      }
    });

    it('an unknown format suffix is not a crash', async () => {
      for (const suffix of ['.html', '.yaml', '.JSON', '.json.json', '.']) {
        const res = await t.request('GET', `${conferencePath(ac, cf)}${suffix}`);
        expect(res.status, suffix).toBeLessThan(500);
      }
    });

    it('malformed percent-encoding in the path never crashes', async () => {
      const paths = [
        `${conferencesPath(ac)}/%E0%A4%A.json`,
        `${participantsPath(ac, cf)}/%ZZ.json`,
        `${participantsPath(ac, cf)}/%.json`,
        `${accountsPath}/%C0%AF.json`,
        `${participantsPath(ac, cf)}/%00.json`,
      ];
      for (const path of paths) {
        const res = await t.request('GET', path);
        expect(res.status, path).toBeGreaterThanOrEqual(400);
        expect(res.status, path).toBeLessThan(500);
      }
    });

    it('malformed percent-encoding in the path is a Twilio-shaped 400', async () => {
      expectJsonError(await t.request('GET', `${participantsPath(ac, cf)}/%ZZ.json`), 400);
      expectJsonError(await t.request('GET', `${conferencesPath(ac)}/%E0%A4%A.json`), 400);
    });

    it('very long paths never crash', async () => {
      for (const length of [600, 5_000, 20_000, 100_000]) {
        const res = await t.request('GET', `${conferencesPath(ac)}/${'C'.repeat(length)}.json`);
        expect(res.status, String(length)).toBeGreaterThanOrEqual(400);
        expect(res.status, String(length)).toBeLessThan(500);
      }
      const label = await t.request('GET', `${participantsPath(ac, cf)}/${encodeURIComponent('é'.repeat(300))}.json`);
      expect(label.status).toBeLessThan(500);
      const segments = await t.request('GET', `/2010-04-01/${'a/'.repeat(2_000)}x.json`);
      expect(segments.status).toBe(404);
    });

    it('a path segment longer than the router takes is a Twilio-shaped 4xx', async () => {
      const res = await t.request('GET', `${conferencesPath(ac)}/${'C'.repeat(600)}.json`);
      expect([400, 404, 414]).toContain(res.status);
      expectJsonError(res, res.status);
    });

    it('a NUL character in the path names nothing: 404 (or 401 for an account), never 500', async () => {
      const notFound = [
        `${conferencesPath(ac)}/%00.json`,
        `${conferencesPath(ac)}/CF%00/Participants.json`,
        `${participantsPath(ac, cf)}/a%00b.json`,
        `${accountsPath}/${ac}/Keys/SK%00.json`,
      ];
      for (const path of notFound) {
        const body = expectJsonError(await t.request('GET', path), 404, `${path} was not found`);
        expect(body.code).toBe(20404);
      }
      expectJsonError(await t.request('POST', `${participantsPath(ac, cf)}/%00.json`, { form: { Muted: 'true' } }), 404);
      expectJsonError(await t.request('DELETE', `${participantsPath(ac, cf)}/%00.json`), 404);
      const account = await t.request('GET', `${accountsPath}/AC%00.json`);
      expect(account.status).toBe(401);
      expect(account.json().code).toBe(20003);
    });

    it('raw protocol garbage is answered or dropped, and the server carries on', async () => {
      const answers = await Promise.all([
        rawExchange(t.baseUrl, 'GARBAGE\r\n\r\n'),
        rawExchange(t.baseUrl, 'GET / HTTP/9.9\r\n\r\n'),
        rawExchange(t.baseUrl, `GET ${conferencesPath(ac)}.json HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`),
        rawExchange(t.baseUrl, `POST ${conferencesPath(ac)}.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
        rawExchange(t.baseUrl, '\u0000\u0001\u0002\r\n\r\n'),
      ]);
      for (const answer of answers) expect(answer).not.toMatch(/^HTTP\/1\.1 5/);
      expect((await t.request('GET', `${conferencePath(ac, cf)}.json`)).status).toBe(200);
    });
  });

  describe('non-ASCII', () => {
    it('a non-ASCII label addresses its participant, percent-encoded, and round-trips', async () => {
      const label = 'Zoë · 会議 🎧';
      const joined = await t.join('unicode room', { label });
      const room = joined.conference.sid;
      await t.join('unicode room');
      const path = `${participantsPath(ac, room)}/${encodeURIComponent(label)}`;
      const fetched = await t.request('GET', `${path}.json`);
      expect(fetched.status).toBe(200);
      expect(fetched.json()).toMatchObject({ call_sid: joined.participant.callSid, label });
      const updated = await t.request('POST', `${path}.json`, { form: { Muted: 'true' } });
      expect(updated.json()).toMatchObject({ label, muted: true });
      const listed = await t.request('GET', `${participantsPath(ac, room)}.json`);
      expect(listed.json<{ participants: Json[] }>().participants.map((p) => p.label)).toContain(label);
      const csv = await t.request('GET', `${participantsPath(ac, room)}.csv`);
      expect(csv.body).toContain(label);
      const xml = await t.request('GET', path);
      expect(xml.status).toBe(200);
      const missing = await t.request('GET', `${participantsPath(ac, room)}/${encodeURIComponent('Zoé')}.json`);
      expect(missing.status).toBe(404);
    });

    it('a label with reserved characters (slash, query, hash, percent) is addressed when encoded', async () => {
      const label = 'a/b?c#d%e&f=g+h';
      const joined = await t.join('reserved room', { label });
      await t.join('reserved room');
      const res = await t.request('GET', `${participantsPath(ac, joined.conference.sid)}/${encodeURIComponent(label)}.json`);
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) expect(res.json().label).toBe(label);
    });

    it('non-ASCII and control characters in names keep XML well-formed and JSON exact', async () => {
      const name = 'Réunion «équipe» 東京 \u0001\u0008 end';
      const joined = await t.join(name);
      const json = await t.request('GET', `${conferencePath(ac, joined.conference.sid)}.json`);
      expect(json.json().friendly_name).toBe(name);
      const xml = await t.request('GET', conferencePath(ac, joined.conference.sid));
      expect(xml.status).toBe(200);
      expect(xml.body).not.toContain('\u0001');
      expect(xml.body).not.toContain('\u0008');
      const parsed = new XMLParser().parse(xml.body) as { TwilioResponse: { Conference: Json } };
      expect(parsed.TwilioResponse.Conference.FriendlyName).toBe('Réunion «équipe» 東京  end');
      const filtered = await t.request('GET', `${conferencesPath(ac)}.json?FriendlyName=${encodeURIComponent(name)}`);
      expect(filtered.json<{ conferences: Json[] }>().conferences.map((c) => c.sid)).toEqual([joined.conference.sid]);
      const sub = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'Équipe 🚀' } });
      expect(sub.json().friendly_name).toBe('Équipe 🚀');
    });
  });

  it('after ~200 mixed hostile requests, a normal fetch still works', async () => {
    const huge = 'y'.repeat(1_100_000);
    const requests: Array<[string, string, RequestOptions?]> = [
      ['GET', `${conferencesPath(ac)}.json?PageSize=0`],
      ['GET', `${conferencesPath(ac)}.json?PageToken=PA-1`],
      ['GET', `${conferencesPath(ac)}.json?DateCreated%3C=never`],
      ['GET', `${conferencesPath(ac)}.json?Status=%ZZ`],
      ['POST', `${conferencePath(ac, cf)}.json`, { form: { Status: 'paused' } }],
      ['POST', `${conferencePath(ac, cf)}.json`, { body: '{"Status":"completed"}', headers: { 'content-type': 'application/json' } }],
      ['POST', `${participantPath(ac, cf, call)}.json`, { form: { Hold: 'maybe' } }],
      ['POST', `${participantPath(ac, cf, call)}.json`, { form: { CallSidToCoach: 'CA' } }],
      ['POST', `${participantPath(ac, cf, call)}.json`, { form: { Coaching: 'true', CallSidToCoach: call } }],
      ['DELETE', `${participantPath(ac, cf, 'CA0123456789abcdef0123456789abcdef')}.json`],
      ['PUT', `${conferencePath(ac, cf)}.json`],
      ['HEAD', `${conferencePath(ac, cf)}.json`],
      ['OPTIONS', `${conferencePath(ac, cf)}.json`],
      ['GET', `${participantsPath(ac, cf)}/%ZZ.json`],
      ['GET', `${conferencesPath(ac)}/${'Z'.repeat(800)}.json`],
      ['GET', `/2010-04-01/Accounts/${ac}/Nothing.json`],
      ['GET', `${conferencesPath(ac)}.json`, { auth: null }],
      ['GET', `${conferencesPath(ac)}.json`, { auth: `${ac}:wrong` }],
      ['GET', `${conferencesPath(ac)}.json`, { auth: null, headers: { authorization: 'Basic %%%' } }],
      ['POST', `${accountsPath}.json`, { form: { FriendlyName: huge } }],
      ['POST', `${accountsPath}/${ac}/Keys.json`, { form: { FriendlyName: 'k'.repeat(100) } }],
      ['GET', `${accountsPath}.json?Status=nope`],
      ['GET', `${participantsPath(ac, 'CFnot-a-sid')}.json`],
      ['POST', `${participantsPath(ac, cf)}.json`, { form: { From: '+1', To: '+2' } }],
      ['GET', `${participantsPath(ac, cf)}/${encodeURIComponent('🎧'.repeat(50))}.json`],
      ['GET', `${participantsPath(ac, cf)}/%00.json`],
      ['GET', `${conferencesPath(ac)}.json?FriendlyName=%00`],
      ['POST', `${accountsPath}.json`, { form: { FriendlyName: '\u0000' } }],
      ['GET', `${conferencePath(ac, cf)}.json`],
      ['GET', `${participantsPath(ac, cf)}.csv?PageSize=1`],
    ];
    const statuses: number[] = [];
    const total = 200;
    const concurrency = 20;
    for (let start = 0; start < total; start += concurrency) {
      const batch = Array.from({ length: Math.min(concurrency, total - start) }, (_, i) => {
        const [method, path, options] = requests[(start + i) % requests.length]!;
        return t.request(method, path, options);
      });
      for (const res of await Promise.all(batch)) statuses.push(res.status);
    }
    expect(statuses).toHaveLength(total);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s >= 200 && s < 300).length).toBeGreaterThan(0);

    const fetched = await t.request('GET', `${conferencePath(ac, cf)}.json`);
    expect(fetched.status).toBe(200);
    expect(fetched.json()).toMatchObject({ sid: cf, status: 'in-progress' });
    const participant = await t.request('GET', `${participantPath(ac, cf, call)}.json`);
    expect(participant.status).toBe(200);
    const listed = await t.request('GET', `${conferencesPath(ac)}.json`);
    expect(listed.status).toBe(200);
  });
});
