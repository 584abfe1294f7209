/**
 * What one client can hold of the API listener. A body that does not arrive in full within the
 * request timeout is answered 408 (Twilio-shaped) and its connection closed; a client address
 * with its cap of bodies still arriving gets 429 / 20429 with Retry-After for the next one, while
 * another address is served; thousands of idle connections do not stop the API answering; a form
 * of 60,000 repeated keys is refused at once and parsed in linear time. The edge's own behaviour,
 * the same on either store: SQLite only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_FORM_PARAMETERS, parseForm } from '../../src/http/form-body.js';
import { expectJsonException, expectXmlException, RawConnection, startEdgeApp, type EdgeApp } from './edge-client.js';

const TIMEOUT_MS = 1500;
const MAX_BODIES = 4;

/** Headers announcing a body of `length` bytes; with `Expect: 100-continue`, the 100 says the server has read them. */
function bodyHeaders(path: string, length: number, options: { authorization?: string; expectContinue?: boolean } = {}): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n` +
    `${options.authorization ? `Authorization: ${options.authorization}\r\n` : ''}${options.expectContinue ? 'Expect: 100-continue\r\n' : ''}\r\n`
  );
}

/**
 * A connection that sent headers and part of a body, seen by the server (its 100 Continue came
 * back). Without credentials it is answered 401 at once, but its body is still arriving.
 */
async function halfSentBody(port: number, path: string, from = '127.0.0.1', authorization?: string): Promise<RawConnection> {
  const connection = await RawConnection.open(port, from);
  await connection.write(bodyHeaders(path, 100_000, { authorization, expectContinue: true }));
  await connection.until((c) => c.received.startsWith('HTTP/1.1 100 Continue\r\n\r\n') || c.closed);
  await connection.write('FriendlyName=half');
  return connection;
}

describe('slow and greedy clients', () => {
  let t: EdgeApp;
  const open: RawConnection[] = [];

  beforeAll(async () => {
    t = await startEdgeApp('sqlite', { requestTimeoutMs: TIMEOUT_MS, maxUnfinishedBodies: MAX_BODIES });
  });
  afterEach(() => {
    for (const connection of open.splice(0)) connection.destroy();
  });
  afterAll(async () => t?.close());

  it('a half-sent body is answered 408, Twilio-shaped, and its connection closed after the timeout', async () => {
    // With credentials: the route waits for the body.
    const json = await halfSentBody(t.port, '/2010-04-01/Accounts.json', '127.0.0.1', t.authorization);
    const xml = await halfSentBody(t.port, '/2010-04-01/Accounts', '127.0.0.2', t.authorization);
    open.push(json, xml);
    await json.until((c) => c.closed);
    await xml.until((c) => c.closed);
    // After the 100 Continue, the 408.
    const [jsonTimeout] = json.responses().filter((r) => r.status !== 100);
    const body = expectJsonException(jsonTimeout, 408);
    expect(body.message).toContain(`${TIMEOUT_MS / 1000} seconds`);
    expectXmlException(xml.responses().find((r) => r.status !== 100), 408);
  });

  it('headers that never end are closed after the timeout too', async () => {
    const connection = await RawConnection.open(t.port);
    open.push(connection);
    await connection.write('GET /2010-04-01/Accounts.json HTTP/1.1\r\nHost: x\r\n');
    await connection.until((c) => c.closed);
    // The path was never complete enough to ask for JSON: XML, Twilio's default.
    expectXmlException(connection.responses()[0], 408);
  });

  it(`the body after ${MAX_BODIES} still arriving from one address is refused 429 / 20429 with Retry-After; another address is served`, async () => {
    const path = '/2010-04-01/Accounts.json';
    // Without credentials, as an attacker would: answered 401, but their bodies still arriving.
    for (let i = 0; i < MAX_BODIES; i++) open.push(await halfSentBody(t.port, path, '127.0.0.3'));
    expect(open.every((c) => !c.closed)).toBe(true);

    const refused = await RawConnection.open(t.port, '127.0.0.3');
    open.push(refused);
    await refused.write(bodyHeaders(path, 100_000, { authorization: t.authorization }));
    await refused.until((c) => c.closed);
    const [answer] = refused.responses();
    const body = expectJsonException(answer, 429, 20429);
    expect(body.message).toContain(`${MAX_BODIES} request bodies from 127.0.0.3`);
    expect(Number(answer!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(answer!.headers['retry-after'])).toBeLessThanOrEqual(Math.ceil(TIMEOUT_MS / 1000));
    expect(answer!.headers.connection).toBe('close');

    // Another address is not held back by the first one's bodies: its whole request is served.
    const form = 'FriendlyName=other+address';
    const other = await RawConnection.open(t.port, '127.0.0.4');
    open.push(other);
    await other.write(`${bodyHeaders(path, form.length, { authorization: t.authorization })}${form}`);
    await other.until((c) => c.responses().length > 0);
    expect(other.responses()[0]).toMatchObject({ status: 201 });

    // Once the held bodies have timed out, the first address is served again.
    await Promise.all(open.slice(0, MAX_BODIES).map((c) => c.until((x) => x.closed)));
    const again = await RawConnection.open(t.port, '127.0.0.3');
    open.push(again);
    await again.write(`${bodyHeaders(path, form.length, { authorization: t.authorization })}${form}`);
    await again.until((c) => c.responses().length > 0);
    expect(again.responses()[0]).toMatchObject({ status: 201 });
  });

  it('bodies that arrive whole never count against the cap: many at once from one address are served', async () => {
    const form = 'FriendlyName=burst';
    const path = `/2010-04-01/Accounts/${t.accountSid}.json`;
    const answers = await Promise.all(
      Array.from({ length: MAX_BODIES * 5 }, () =>
        fetch(`http://127.0.0.1:${t.port}${path}`, {
          method: 'POST',
          headers: { authorization: t.authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        }).then((r) => r.status),
      ),
    );
    expect(answers.every((s) => s === 200)).toBe(true);
  });

  it('2,000 idle connections: the API still answers, and they are closed after the timeout', async () => {
    // Opened in batches the listen backlog (511) holds, each accepted before the next.
    const idle: RawConnection[] = [];
    const accepted = (): Promise<number> => new Promise((resolve, reject) => t.app.http.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    for (let batch = 0; batch < 8; batch++) {
      idle.push(...(await Promise.all(Array.from({ length: 250 }, () => RawConnection.open(t.port)))));
      open.push(...idle.slice(-250));
      await vi.waitFor(async () => expect(await accepted()).toBeGreaterThanOrEqual(idle.filter((c) => !c.closed).length), { timeout: 10_000 });
    }
    const res = await fetch(`http://127.0.0.1:${t.port}/2010-04-01/Accounts/${t.accountSid}.json`, { headers: { authorization: t.authorization } });
    expect(res.status).toBe(200);
    await Promise.all(idle.map((c) => c.until((x) => x.closed)));
    expect(idle.every((c) => c.responses()[0]?.status === 408)).toBe(true);
  });

  it('a form of 60,000 repeated keys is refused at once — unread without credentials, 400 naming the limit with them — and another request is answered meanwhile', async () => {
    const body = 'a=&'.repeat(60_000);
    const post = (path: string, authorization?: string): string =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n` +
      `${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n${body}`;
    const anonymous = await RawConnection.open(t.port, '127.0.0.5');
    const signed = await RawConnection.open(t.port, '127.0.0.6');
    open.push(anonymous, signed);
    const sent = Promise.all([anonymous.write(post('/nope.json')), signed.write(post(`/2010-04-01/Accounts/${t.accountSid}.json`, t.authorization))]);
    const other = fetch(`http://127.0.0.1:${t.port}/2010-04-01/Accounts/${t.accountSid}.json`, { headers: { authorization: t.authorization } });
    await sent;
    await anonymous.until((c) => c.responses().length > 0);
    await signed.until((c) => c.responses().length > 0);
    expectJsonException(anonymous.responses()[0], 404, 20404);
    const refusal = expectJsonException(signed.responses()[0], 400);
    expect(refusal.message).toContain(`at most ${MAX_FORM_PARAMETERS} form parameters`);
    expect((await other).status).toBe(200);
  });
});

describe('parseForm', () => {
  it('parses 60,000 values of one key into one array, in linear time (the old copy-per-repeat took 37 s)', () => {
    const params = parseForm('a=&'.repeat(60_000) + 'b=2', Infinity);
    expect(params.a).toHaveLength(60_000);
    expect(params.b).toBe('2');
  });

  it('keeps repeated keys in order, reads broken escapes literally, and treats __proto__ as a plain key', () => {
    const params = parseForm('E=a&E=b&E=c&x=100%25%ZZ&__proto__=p&__proto__=q&constructor=k');
    expect(params.E).toEqual(['a', 'b', 'c']);
    expect(params.x).toBe('100%%ZZ');
    expect(params['__proto__']).toEqual(['p', 'q']);
    expect(params.constructor).toBe('k');
    expect(Object.getPrototypeOf(params)).toBeNull();
  });

  it(`counts pairs, not separators, against the limit of ${MAX_FORM_PARAMETERS}`, () => {
    expect(() => parseForm('&&&'.repeat(5000) + 'a=1')).not.toThrow();
    expect(Object.keys(parseForm('x=1&'.repeat(MAX_FORM_PARAMETERS)))).toEqual(['x']);
    expect(() => parseForm('x=1&'.repeat(MAX_FORM_PARAMETERS + 1))).toThrow(`at most ${MAX_FORM_PARAMETERS} form parameters`);
  });
});
