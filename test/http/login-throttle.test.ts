/**
 * Failed logins are throttled in Twilio's shape (429 / 20429 with Retry-After), per client
 * address and per account, without locking out the clients that log in correctly: after N
 * failures from one address that address is refused — even its right token — while the right
 * token from another address still works; failures spread over many addresses throttle guesses at
 * the account, but not the addresses that logged in to it before, nor other accounts; and an unknown account is
 * throttled exactly like a known one, so a 429 tells nothing about which SIDs exist. Clients
 * speak from different loopback addresses (127.0.0.x).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid } from '../../src/domain/sids.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { startEdgeApp, type EdgeApp } from './edge-client.js';

const PER_ADDRESS = 5;
const PER_ACCOUNT = 12;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** GET with Basic credentials from a chosen local address (node:http, which can bind one). */
function get(port: number, path: string, credentials: string, from: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port, path, localAddress: from, agent: false, headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], body }));
      },
    );
    request.on('error', reject);
  });
}

function expectThrottled(answer: Answer, format: 'json' | 'xml' = 'json'): void {
  expect(answer.status, answer.body).toBe(429);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
  if (format === 'json') {
    expect(JSON.parse(answer.body)).toEqual({ code: 20429, message: expect.stringContaining('failed logins'), more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 });
  } else {
    expect(answer.body).toContain('<Code>20429</Code>');
    expect(answer.body).toContain('<Status>429</Status>');
  }
}

describe.each(STORE_KINDS)('failed logins on %s', (kind) => {
  let t: EdgeApp;
  let own: string;
  const wrong = (sid: string): string => `${sid}:${'0'.repeat(32)}`;

  beforeAll(async () => {
    t = await startEdgeApp(kind, { loginFailuresPerSource: PER_ADDRESS, loginFailuresPerAccount: PER_ACCOUNT });
    own = `/2010-04-01/Accounts/${t.accountSid}.json`;
  });
  afterAll(async () => t?.close());

  it(`after ${PER_ADDRESS} failures an address gets 429 / 20429 with Retry-After, even with the right token; another address logs in`, async () => {
    const right = `${t.accountSid}:${t.authToken}`;
    // The right token from 127.0.1.2 now, so that the account knows that address.
    expect((await get(t.port, own, right, '127.0.1.2')).status).toBe(200);
    for (let i = 0; i < PER_ADDRESS; i++) expect((await get(t.port, own, wrong(t.accountSid), '127.0.1.1')).status).toBe(401);
    expectThrottled(await get(t.port, own, wrong(t.accountSid), '127.0.1.1'));
    expectThrottled(await get(t.port, own.replace('.json', ''), wrong(t.accountSid), '127.0.1.1'), 'xml');
    expectThrottled(await get(t.port, own, right, '127.0.1.1'));
    // Another address, known or new to the account, is not held back.
    expect((await get(t.port, own, right, '127.0.1.2')).status).toBe(200);
    expect((await get(t.port, own, right, '127.0.1.3')).status).toBe(200);
  });

  it(`after ${PER_ACCOUNT} failures on one account from many addresses, new addresses get 429 for it; its known address and other accounts log in`, async () => {
    const sub = await fetch(`http://127.0.0.1:${t.port}/2010-04-01/Accounts.json`, {
      method: 'POST',
      headers: { authorization: t.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'FriendlyName=target',
    }).then((r) => r.json() as Promise<{ sid: string; auth_token: string }>);
    const path = `/2010-04-01/Accounts/${sub.sid}.json`;
    const right = `${sub.sid}:${sub.auth_token}`;
    expect((await get(t.port, path, right, '127.0.2.100')).status).toBe(200); // a server that uses the account
    // Fewer than PER_ADDRESS failures from each of several addresses.
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await get(t.port, path, wrong(sub.sid), `127.0.2.${1 + (i % 4)}`)).status).toBe(401);
    // A further guess, from an address that has not failed before, is refused unchecked.
    expectThrottled(await get(t.port, path, wrong(sub.sid), '127.0.2.50'));
    expectThrottled(await get(t.port, path, right.slice(0, -1), '127.0.2.51'));
    expect((await get(t.port, path, right, '127.0.2.100')).status).toBe(200);
    // The owner's account, from one of the guessing addresses, is unaffected.
    expect((await get(t.port, own, `${t.accountSid}:${t.authToken}`, '127.0.2.1')).status).toBe(200);
  });

  it('an unknown account is counted and throttled exactly as a known one', async () => {
    const unknown = newSid('AC');
    const path = `/2010-04-01/Accounts/${unknown}.json`;
    for (let i = 0; i < PER_ADDRESS; i++) expect((await get(t.port, path, wrong(unknown), '127.0.3.1')).status).toBe(401);
    expectThrottled(await get(t.port, path, wrong(unknown), '127.0.3.1'));
  });
});
