/**
 * WebhookClient against real HTTP receivers on 127.0.0.1: the official `twilio` package's
 * `validateRequest` accepts our X-Twilio-Signature for POST (repeated keys included) and GET;
 * parameters, headers, timeouts, connection failures, non-2xx answers, oversized bodies and bad
 * URLs each give a WebhookError of the right kind and Twilio code; `fetchTwiml` falls back to the
 * fallback URL with ErrorCode and ErrorUrl, as Twilio does — the same ErrorCode and message for
 * a closed port, a silent one, one that speaks no HTTP and an address the outbound policy refuses.
 */
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_USABLE_ANSWER } from '../../src/net/retrieval-failure.js';
import { signatureFor } from '../../src/webhooks/signature.js';
import { WebhookClient, type WebhookRequest } from '../../src/webhooks/webhook-client.js';
import { WebhookError } from '../../src/webhooks/webhook-error.js';
import { answer, closedPort, startReceiver, type Handler, type Receiver } from '../helpers/webhook-receiver.js';

const TOKEN = 'f00dfacef00dfacef00dfacef00dface';
const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>hi</Say></Response>';
const CALL_PARAMS = { CallSid: 'CA0123456789abcdef0123456789abcdef', From: '+15551230000', To: '+15559870000' };

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(handler: Handler = (_req, res) => answer(res, 200, 'text/xml', TWIML)): Promise<Receiver> {
  const started = await startReceiver(handler);
  receivers.push(started);
  return started;
}

async function failure(promise: Promise<unknown>): Promise<WebhookError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WebhookError);
  return error as WebhookError;
}

const client = new WebhookClient();

function post(url: string, params: WebhookRequest['params'] = CALL_PARAMS): WebhookRequest {
  return { url, method: 'POST', params, authToken: TOKEN };
}

describe('signatureFor', () => {
  it('matches twilio-node for POST params, repeated keys and non-ASCII values', () => {
    const url = 'https://app.example.com/voice?room=a%20b';
    const params = { Zeta: 'z', alpha: 'a b&c=d', Event: ['leave', 'join', 'join'], Name: 'Zoë ✓' };
    const signature = signatureFor(TOKEN, url, params);
    expect(signature).toBe(twilio.getExpectedTwilioSignature(TOKEN, url, params));
    expect(twilio.validateRequest(TOKEN, signature, url, params)).toBe(true);
    expect(twilio.validateRequest('another-token', signature, url, params)).toBe(false);
    expect(twilio.validateRequest(TOKEN, signature, url, { ...params, Zeta: 'y' })).toBe(false);
  });

  it('signs only the URL for GET', () => {
    const url = 'https://app.example.com/voice?CallSid=CA1&From=%2B1555';
    expect(twilio.validateRequest(TOKEN, signatureFor(TOKEN, url), url, {})).toBe(true);
  });
});

describe('WebhookClient.request', () => {
  it('POSTs a signed form that twilio.validateRequest accepts, with Twilio headers', async () => {
    const app = await receiver();
    const params = { ...CALL_PARAMS, Note: 'a b&c=d+é', Event: ['join', 'leave'] };
    const result = await client.request(post(`${app.baseUrl}/voice?tenant=1`, params));
    expect(result.status).toBe(200);
    expect(result.contentType).toBe('text/xml');
    expect(result.body.toString()).toBe(TWIML);

    const [request] = app.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/voice?tenant=1');
    expect(request!.params).toEqual(params);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers['user-agent']).toBe('TwilioProxy/1.1');
    expect(request!.headers.accept).toBe('*/*');
    expect(request!.headers['i-twilio-idempotency-token']).toMatch(/^[0-9a-f-]{36}$/);
    const signature = request!.headers['x-twilio-signature'] as string;
    expect(twilio.validateRequest(TOKEN, signature, request!.fullUrl, request!.params)).toBe(true);
  });

  it('sends a fresh idempotency token per request unless one is given', async () => {
    const app = await receiver();
    await client.request(post(`${app.baseUrl}/a`));
    await client.request(post(`${app.baseUrl}/a`));
    await client.request({ ...post(`${app.baseUrl}/a`), idempotencyToken: 'retry-1' });
    const tokens = app.requests.map((request) => request.headers['i-twilio-idempotency-token']);
    expect(new Set(tokens).size).toBe(3);
    expect(tokens[2]).toBe('retry-1');
  });

  it('GETs with the params merged into the existing query string, signed over the full URL', async () => {
    const app = await receiver();
    await client.request({ ...post(`${app.baseUrl}/voice?tenant=1&x=a%20b`), method: 'GET' });
    const [request] = app.requests;
    expect(request!.method).toBe('GET');
    expect(request!.body).toBe('');
    expect(request!.headers['content-type']).toBeUndefined();
    expect(request!.params).toEqual({ tenant: '1', x: 'a b', ...CALL_PARAMS });
    const signature = request!.headers['x-twilio-signature'] as string;
    expect(twilio.validateRequest(TOKEN, signature, request!.fullUrl, {})).toBe(true);
  });

  it('sends credentials in the URL as Basic auth and signs the URL without them', async () => {
    const app = await receiver();
    const url = app.baseUrl.replace('http://', 'http://user:p%40ss@');
    await client.request(post(`${url}/secured`));
    const [request] = app.requests;
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(twilio.validateRequest(TOKEN, request!.headers['x-twilio-signature'] as string, request!.fullUrl, request!.params)).toBe(true);
  });

  it('times out a receiver that never answers, within the configured timeout', async () => {
    const app = await receiver(() => undefined);
    const started = performance.now();
    const error = await failure(client.request({ ...post(`${app.baseUrl}/hang`), timeoutMs: 200 }));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ kind: 'timeout', code: 11200, method: 'POST', detail: 'no complete answer within 200 ms' });
    expect(error.message).toBe(`POST ${app.baseUrl}/hang: ${NO_USABLE_ANSWER}`);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000);
  });

  it('times out a body that stops halfway', async () => {
    const app = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.write('<Response>');
    });
    const error = await failure(client.request({ ...post(`${app.baseUrl}/slow`), timeoutMs: 200 }));
    expect(error.kind).toBe('timeout');
  });

  it('reports a non-2xx answer with its status', async () => {
    const app = await receiver((_req, res) => answer(res, 503, 'text/html', '<h1>down</h1>'));
    const error = await failure(client.request(post(`${app.baseUrl}/x`)));
    expect(error).toMatchObject({ kind: 'http-status', status: 503, code: 11200, detail: 'answered HTTP 503' });
    expect(error.message).toBe(`POST ${app.baseUrl}/x: ${NO_USABLE_ANSWER}`);
  });

  it('names the URL as configured in errors: no GET parameters, no credentials', async () => {
    const app = await receiver((_req, res) => answer(res, 500, 'text/plain', 'boom'));
    const configured = `${app.baseUrl}/voice?tenant=1`;
    const error = await failure(
      client.request({ ...post(configured.replace('http://', 'http://user:secret@')), method: 'GET' }),
    );
    expect(error.url).toBe(configured);
    expect(error.message).not.toContain('secret');
    expect(error.message).not.toContain('CallSid');
  });

  it('reports a refused connection', async () => {
    const port = await closedPort();
    const error = await failure(client.request(post(`http://127.0.0.1:${port}/x`)));
    expect(error).toMatchObject({ kind: 'connection', causeCode: 'ECONNREFUSED', code: 11200, detail: 'ECONNREFUSED' });
  });

  it('refuses a body over the cap, declared or streamed', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const declared = await receiver((_req, res) => answer(res, 200, 'text/xml', big));
    const error = await failure(client.request(post(`${declared.baseUrl}/big`)));
    expect(error).toMatchObject({ kind: 'too-large', code: 11750, status: 200 });

    const streamed = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      for (let i = 0; i < 10; i += 1) res.write('y'.repeat(512));
      res.end();
    });
    const small = new WebhookClient({ maxBodyBytes: 4096 });
    expect((await failure(small.request(post(`${streamed.baseUrl}/chunked`)))).kind).toBe('too-large');
    expect((await small.request({ ...post(`${streamed.baseUrl}/chunked`), discardBody: true })).body).toHaveLength(0);
    expect((await new WebhookClient().request(post(`${streamed.baseUrl}/chunked`))).body).toHaveLength(5120);
  });

  it.each([
    ['not a url', 'is not an absolute URL'],
    ['/relative/path', 'is not an absolute URL'],
    ['ftp://example.com/file', 'must be http or https'],
    ['file:///etc/passwd', 'must be http or https'],
  ])('refuses the URL %j before sending anything', async (url, part) => {
    const error = await failure(client.request(post(url)));
    expect(error).toMatchObject({ kind: 'bad-url', code: 11100, url });
    expect(error.message).toContain(part);
  });

  it('is aborted by the caller signal', async () => {
    const app = await receiver(() => undefined);
    const controller = new AbortController();
    const pending = client.request({ ...post(`${app.baseUrl}/hang`), signal: controller.signal });
    await app.received(1);
    controller.abort();
    expect((await failure(pending)).kind).toBe('aborted');
  });
});

describe('WebhookClient.fetchTwiml', () => {
  function twimlRequest(url: string, fallbackUrl?: string) {
    return { url, method: 'POST' as const, params: CALL_PARAMS, authToken: TOKEN, timeoutMs: 200, ...(fallbackUrl ? { fallbackUrl } : {}) };
  }

  it('returns the primary document', async () => {
    const app = await receiver((_req, res) => answer(res, 200, 'application/xml; charset=utf-8', TWIML));
    const result = await client.fetchTwiml(twimlRequest(`${app.baseUrl}/answer`));
    expect(result).toMatchObject({ twiml: TWIML, from: 'url', url: `${app.baseUrl}/answer` });
    expect(result.primaryFailure).toBeUndefined();
  });

  it.each(['text/xml', 'application/xml', 'text/plain'])('accepts TwiML served as %s', async (type) => {
    const app = await receiver((_req, res) => answer(res, 200, type, TWIML));
    expect((await client.fetchTwiml(twimlRequest(`${app.baseUrl}/a`))).twiml).toBe(TWIML);
  });

  it('on a 500, asks the fallback with the same params plus ErrorCode and ErrorUrl', async () => {
    const app = await receiver((req, res) =>
      req.path.startsWith('/primary') ? answer(res, 500, 'text/plain', 'boom') : answer(res, 200, 'text/xml', TWIML),
    );
    const primaryUrl = `${app.baseUrl}/primary`;
    const result = await client.fetchTwiml(twimlRequest(primaryUrl, `${app.baseUrl}/fallback`));
    expect(result.from).toBe('fallback');
    expect(result.primaryFailure).toMatchObject({ kind: 'http-status', status: 500 });
    const fallback = app.requests[1]!;
    expect(fallback.method).toBe('POST');
    expect(fallback.params).toEqual({ ...CALL_PARAMS, ErrorCode: '11200', ErrorUrl: primaryUrl });
    expect(twilio.validateRequest(TOKEN, fallback.headers['x-twilio-signature'] as string, fallback.fullUrl, fallback.params)).toBe(true);
  });

  it('falls back on a timeout, and can GET the fallback', async () => {
    const app = await receiver((req, res) => {
      if (!req.path.startsWith('/primary')) answer(res, 200, 'text/xml', TWIML);
    });
    const result = await client.fetchTwiml({
      ...twimlRequest(`${app.baseUrl}/primary`, `${app.baseUrl}/fallback`),
      fallbackMethod: 'GET',
    });
    expect(result.from).toBe('fallback');
    expect(app.requests[1]).toMatchObject({ method: 'GET', params: expect.objectContaining({ ErrorCode: '11200' }) });
  });

  it.each([
    ['application/json', '{"ok":true}', '12300'],
    ['text/html', '<html><body>Not Found</body></html>', '12100'],
    ['text/xml', '', '12100'],
    ['text/xml', '<Respond><Say>typo</Say></Respond>', '12100'],
  ])('falls back when the primary answers %s %j', async (type, body, code) => {
    const app = await receiver((req, res) =>
      req.path.startsWith('/primary') ? answer(res, 200, type, body) : answer(res, 200, 'text/xml', TWIML),
    );
    const result = await client.fetchTwiml(twimlRequest(`${app.baseUrl}/primary`, `${app.baseUrl}/fallback`));
    expect(result.from).toBe('fallback');
    expect(result.primaryFailure?.kind).toBe('not-twiml');
    expect(app.requests[1]!.params.ErrorCode).toBe(code);
  });

  it('lets a validator reject a document, its code becoming the ErrorCode', async () => {
    const app = await receiver((req, res) =>
      answer(res, 200, 'text/xml', req.path.startsWith('/primary') ? '<Response><Gather/></Response>' : TWIML),
    );
    const validate = (twiml: string): void => {
      if (twiml.includes('Gather')) throw Object.assign(new Error('<Gather> is not supported'), { code: 12200 });
    };
    const result = await client.fetchTwiml({ ...twimlRequest(`${app.baseUrl}/primary`, `${app.baseUrl}/fallback`), validate });
    expect(result.from).toBe('fallback');
    expect(result.primaryFailure?.message).toContain('<Gather> is not supported');
    expect(app.requests[1]!.params.ErrorCode).toBe('12200');
  });

  it('throws the fallback failure, carrying the primary one, when both fail', async () => {
    const app = await receiver((_req, res) => answer(res, 502, 'text/plain', 'bad gateway'));
    const port = await closedPort();
    const error = await failure(client.fetchTwiml(twimlRequest(`http://127.0.0.1:${port}/primary`, `${app.baseUrl}/fallback`)));
    expect(error).toMatchObject({ kind: 'http-status', status: 502 });
    expect(error.primaryFailure).toMatchObject({ kind: 'connection', causeCode: 'ECONNREFUSED' });
    expect(app.requests[0]!.params.ErrorCode).toBe('11200');
  });

  it('sends the same ErrorCode, ErrorUrl and message for a closed port, a silent one, one that speaks no HTTP, an error status and a refused address', async () => {
    const fallback = await receiver();
    const peers: Socket[] = [];
    const notHttp = createTcpServer((socket) => {
      peers.push(socket);
      socket.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    const silent = createTcpServer((socket) => peers.push(socket));
    for (const server of [notHttp, silent]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const errorStatus = await receiver((_req, res) => answer(res, 503, 'text/plain', 'down'));
    try {
      const primaries = {
        closed: `http://127.0.0.1:${await closedPort()}/voice`,
        silent: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/voice`,
        'not HTTP': `http://127.0.0.1:${(notHttp.address() as AddressInfo).port}/voice`,
        'error status': `${errorStatus.baseUrl}/voice`,
        'link-local': 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
        'metadata name': 'http://metadata.google.internal/computeMetadata/v1/',
        'metadata IPv6': 'http://[fd00:ec2::254]/latest/meta-data/',
      };
      const seen: Record<string, { code: string; url: string; message: string; detail: string | undefined }> = {};
      for (const [name, url] of Object.entries(primaries)) {
        const result = await client.fetchTwiml({ ...twimlRequest(url, `${fallback.baseUrl}/fallback`), timeoutMs: 300 });
        const asked = fallback.requests.at(-1)!.params;
        seen[name] = {
          code: String(asked.ErrorCode),
          url: String(asked.ErrorUrl) === url ? '<the primary URL>' : String(asked.ErrorUrl),
          message: result.primaryFailure!.message.replace(url, '<url>'),
          detail: result.primaryFailure!.detail,
        };
      }
      const visible = new Set(Object.values(seen).map(({ code, url, message }) => JSON.stringify({ code, url, message })));
      expect([...visible]).toEqual([JSON.stringify({ code: '11200', url: '<the primary URL>', message: `POST <url>: ${NO_USABLE_ANSWER}` })]);
      // What really happened is there for the operator's log.
      expect(seen.closed!.detail).toBe('ECONNREFUSED');
      expect(seen.silent!.detail).toBe('no complete answer within 300 ms');
      expect(seen['not HTTP']!.detail).toMatch(/does not match the HTTP\/1\.1 protocol/);
      expect(seen['error status']!.detail).toBe('answered HTTP 503');
      expect(seen['link-local']!.detail).toMatch(/refused by the outbound policy: 169\.254\.169\.254 is in the built-in deny list \(link-local\)/);
      expect(seen['metadata name']!.detail).toMatch(/metadata\.google\.internal is the name of a cloud metadata service/);
      expect(seen['metadata IPv6']!.detail).toMatch(/fd00:ec2::254 is in the built-in deny list \(AWS instance metadata \(IPv6\)\)/);
    } finally {
      for (const socket of peers) socket.destroy();
      for (const server of [notHttp, silent]) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('throws the primary failure when there is no fallback', async () => {
    const app = await receiver((_req, res) => answer(res, 404, 'text/plain', 'nope'));
    const error = await failure(client.fetchTwiml(twimlRequest(`${app.baseUrl}/missing`)));
    expect(error).toMatchObject({ kind: 'http-status', status: 404 });
    expect(error.primaryFailure).toBeUndefined();
  });
});
