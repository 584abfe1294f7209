/**
 * Requests refused before any route runs come back as Twilio's RestException, in JSON for a
 * `.json` target and XML otherwise, and the connection is closed after a framing error: a
 * malformed or doubled Content-Length, Content-Length beside Transfer-Encoding, a bad chunk,
 * headers over 16 KB, a bad method or version, an unmet Expect, no Host. Request-smuggling
 * combinations never reach a route (the smuggled request is not run), bodies of 10 MB are 413,
 * and a form of more parameters than the limit is a 400 naming it. These are the edge's own
 * answers, the same on either store, so they run on SQLite only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FORM_PARAMETERS } from '../../src/http/form-body.js';
import { exchange, expectJsonException, expectXmlException, RawConnection, startEdgeApp, type EdgeApp } from './edge-client.js';

describe('errors raised before a route runs', () => {
  let t: EdgeApp;
  let json: string;
  let xml: string;

  beforeAll(async () => {
    t = await startEdgeApp('sqlite');
    json = `/2010-04-01/Accounts/${t.accountSid}/Conferences.json`;
    xml = `/2010-04-01/Accounts/${t.accountSid}/Conferences`;
  });
  afterAll(async () => t?.close());

  const malformed: Array<[string, (target: string) => string, number]> = [
    ['a Content-Length that is no number', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`, 400],
    ['two different Content-Lengths', (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd`, 400],
    ['Content-Length with Transfer-Encoding', (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    // With credentials, so that the route waits for the body rather than answering 401 first.
    ['a chunk size that is no number', (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: ${t.authorization}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`, 400],
    ['headers over 16 KB', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a query string over 16 KB', (p) => `GET ${p}?a=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ['a method that is no token', (p) => `GE@T ${p} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
    ['an unknown HTTP version', (p) => `GET ${p} HTTP/9.9\r\nHost: x\r\n\r\n`, 400],
    ['a NUL in a header value', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n`, 400],
    ['a space in a header name', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n`, 400],
  ];

  it.each(malformed)('%s: Twilio-shaped in JSON and XML, and the connection closed', async (_name, request, status) => {
    const asJson = await exchange(t.port, request(json));
    expect(asJson.responses).toHaveLength(1);
    expectJsonException(asJson.responses[0], status);
    expect(asJson.responses[0]!.headers.connection).toBe('close');
    const asXml = await exchange(t.port, request(xml));
    expect(asXml.responses).toHaveLength(1);
    expectXmlException(asXml.responses[0], status);
  });

  it('an Expect other than 100-continue is 417, Twilio-shaped', async () => {
    const request = (p: string): string => `POST ${p} HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n`;
    const body = expectJsonException((await exchange(t.port, request(json))).responses[0], 417);
    expect(body.message).toContain('magic');
    expectXmlException((await exchange(t.port, request(xml))).responses[0], 417);
  });

  it('an HTTP/1.1 request without Host is 400, Twilio-shaped, whatever its credentials', async () => {
    const request = (p: string): string => `GET ${p} HTTP/1.1\r\nAuthorization: ${t.authorization}\r\nConnection: close\r\n\r\n`;
    const body = expectJsonException((await exchange(t.port, request(json))).responses[0], 400);
    expect(body.message).toContain('Host');
    expectXmlException((await exchange(t.port, request(xml))).responses[0], 400);
    const withHost = await exchange(t.port, `GET ${json} HTTP/1.1\r\nHost: x\r\nAuthorization: ${t.authorization}\r\nConnection: close\r\n\r\n`);
    expect(withHost.responses[0]?.status).toBe(200);
  });

  it('a form of more parameters than the limit is a 400 naming the limit, in JSON and XML', async () => {
    const body = 'a=&'.repeat(MAX_FORM_PARAMETERS + 1);
    const request = (p: string): string =>
      `POST ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: ${t.authorization}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const refused = expectJsonException((await exchange(t.port, request(`/2010-04-01/Accounts/${t.accountSid}.json`))).responses[0], 400);
    expect(refused.message).toContain(`at most ${MAX_FORM_PARAMETERS} form parameters`);
    expectXmlException((await exchange(t.port, request(`/2010-04-01/Accounts/${t.accountSid}`))).responses[0], 400);
  });

  describe('request smuggling is refused, and the smuggled request never runs', () => {
    // Each hides `POST …/Accounts.json FriendlyName=<marker>` after a front request; were it
    // run, a subaccount named <marker> would exist.
    const smuggled = (marker: string, accountSid: string, authorization: string): string => {
      const form = `FriendlyName=${marker}`;
      return (
        `POST /2010-04-01/Accounts.json HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}` +
        `GET /2010-04-01/Accounts/${accountSid}.json HTTP/1.1\r\nHost: x\r\n\r\n`
      );
    };
    const fronts: Array<[string, (inner: string) => string]> = [
      ['CL.TE', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nContent-Length: ${inner.length + 5}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${inner}`],
      ['TE.CL', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`],
      ['TE obfuscated with a space', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${inner}`],
      ['TE "xchunked"', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${inner}`],
      ['TE "chunked, identity"', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${inner}`],
      ['two Content-Lengths', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`],
      ['a Content-Length with a sign', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nContent-Length: +${inner.length}\r\n\r\n${inner}`],
      ['a bare LF before the smuggled request', (inner) => `POST /x.json HTTP/1.1\nHost: x\nContent-Length: 0\n\n${inner}`],
      ['a chunk size with an overflowing length', (inner) => `POST /x.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\n${inner}\r\n0\r\n\r\n`],
    ];

    it.each(fronts)('%s', async (name, front) => {
      const marker = `smuggled-${name.replace(/\W+/g, '-')}-${Date.now()}`;
      const { responses } = await exchange(t.port, front(smuggled(marker, t.accountSid, t.authorization)));
      // Whatever the front request got (a 400, or a 404 for /x.json), nothing was answered 201.
      expect(responses.map((r) => r.status)).not.toContain(201);
      for (const response of responses.filter((r) => r.status === 400)) expectJsonException(response, 400);
      const accounts = await fetch(`http://127.0.0.1:${t.port}/2010-04-01/Accounts.json?FriendlyName=${marker}`, { headers: { authorization: t.authorization } });
      expect((await accounts.json()) as { accounts: unknown[] }).toMatchObject({ accounts: [] });
    });
  });

  describe('10 MB bodies are 413, Twilio-shaped, before all of them is read', () => {
    const tenMegabytes = 10 * 1024 * 1024;

    it('announced by Content-Length', async () => {
      const connection = await RawConnection.open(t.port);
      await connection.write(
        `POST /2010-04-01/Accounts/${t.accountSid}.json HTTP/1.1\r\nHost: x\r\nAuthorization: ${t.authorization}\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${tenMegabytes}\r\n\r\n`,
      );
      await connection.until((c) => c.responses().length > 0 || c.closed);
      const body = expectJsonException(connection.responses()[0], 413);
      expect(body.message).toMatch(/too large/i);
      connection.destroy();
    });

    it('sent chunked, in XML', async () => {
      const connection = await RawConnection.open(t.port);
      await connection.write(
        `POST /2010-04-01/Accounts/${t.accountSid} HTTP/1.1\r\nHost: x\r\nAuthorization: ${t.authorization}\r\n` +
          'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
      const chunk = `100000\r\n${'x'.repeat(0x100000)}\r\n`;
      for (let sent = 0; sent < tenMegabytes && !connection.closed && connection.responses().length === 0; sent += 0x100000) {
        await connection.write(chunk).catch(() => undefined);
      }
      await connection.until((c) => c.responses().length > 0 || c.closed);
      expectXmlException(connection.responses()[0], 413);
      connection.destroy();
    });
  });
});
