/**
 * Stopping the real server process, as an operator does: SIGTERM ends every call properly — a
 * BYE to the SIP phone, the status callback sent, a TwiML fetch that would hang given up — and
 * the process exits 0 within its deadline; after a kill -9, the next start sends the callbacks
 * the dead process owed (the call's `completed`, its conference's leave and end).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../helpers/webhook-receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NUMBER = '+15005550177';

interface Server {
  child: ChildProcess;
  api: string;
  sipPort: number;
  exit: Promise<number | null>;
}

describe('stopping the server', () => {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function start(database: string, env: Record<string, string> = {}): Promise<Server> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--port', '0'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        CONCLAVE_DATABASE: database,
        CONCLAVE_ACCOUNT_SID: accountSid,
        CONCLAVE_AUTH_TOKEN: authToken,
        CONCLAVE_SIP_PORT: '0',
        CONCLAVE_RTP_PORTS: '44000-44099',
        CONCLAVE_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const api = /listening on (http:\/\/[^\s]+)\/2010-04-01/.exec(out)?.[1];
        const sip = /SIP: sip:<number>@[\d.]+:(\d+)/.exec(out)?.[1];
        if (api && sip) resolve({ child, api: `${api}/2010-04-01/Accounts/${accountSid}`, sipPort: Number(sip), exit });
      });
      void exit.then((code) => reject(new Error(`the server exited (${code}) before it listened: ${err}`)));
    });
  }

  const request = async (method: string, url: string, form?: Record<string, string | string[]>): Promise<{ status: number; json: Record<string, unknown> }> => {
    const body = form ? new URLSearchParams(Object.entries(form).flatMap(([k, v]) => [v].flat().map((x): [string, string] => [k, x]))).toString() : undefined;
    const res = await fetch(url, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  async function receiver(): Promise<Receiver> {
    const web = await startReceiver((r, response) => {
      const path = r.path.split('?')[0];
      if (path === '/voice') return answer(response, 200, 'text/xml', '<Response><Dial><Conference>stopping</Conference></Dial></Response>');
      if (path === '/never') return; // a webhook that never answers
      answer(response, 204, 'text/plain', '');
    });
    cleanups.push(() => web.close());
    return web;
  }

  const tempDb = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-stop-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return join(dir, 'conclave.db');
  };

  const requested = (web: Receiver, pred: (r: ReceivedRequest) => boolean): Promise<ReceivedRequest> =>
    vi.waitFor(
      () => {
        const found = web.requests.find(pred);
        expect(found).toBeDefined();
        return found!;
      },
      { timeout: 20_000, interval: 50 },
    );

  it('SIGTERM: the phone gets a BYE, the callbacks are sent, a hanging fetch is given up, and it exits 0', async () => {
    const web = await receiver();
    // A webhook that never answers would hold a stop for a minute if its fetch were not given up.
    const server = await start(tempDb(), { CONCLAVE_WEBHOOK_TIMEOUT_MS: '60000', CONCLAVE_SHUTDOWN_TIMEOUT_MS: '20000' });
    expect((await request('POST', `${server.api}/IncomingPhoneNumbers.json`, { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` })).status).toBe(201);
    const phone = await SipPhone.open('desk', 500);
    cleanups.push(() => phone.close());
    const call = await phone.dial(`sip:${NUMBER}@127.0.0.1:${server.sipPort}`);
    const byed = new Promise<string>((resolve) => call.on('ended', (e) => resolve(e.by)));
    const alice = await request('POST', `${server.api}/Calls.json`, {
      To: 'sim:alice',
      From: '+15005550006',
      Twiml: '<Response><Dial><Conference>stopping</Conference></Dial></Response>',
      StatusCallback: `${web.baseUrl}/status`,
      StatusCallbackEvent: 'completed',
    });
    await request('POST', `${server.api}/Calls.json`, { To: 'sim:bob', From: '+15005550006', Url: `${web.baseUrl}/never` });
    await requested(web, (r) => r.path === '/never');
    await vi.waitFor(async () => expect((await request('GET', `${server.api}/Conferences.json?Status=in-progress`)).json.conferences).toHaveLength(1), { timeout: 20_000 });

    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0); // 1 would mean a step did not finish before the deadline
    expect(await byed).toBe('remote');
    const completed = await requested(web, (r) => r.path === '/status');
    expect(completed.params).toMatchObject({ CallSid: alice.json.sid, CallStatus: 'completed' });
  });

  it('after a kill -9, the next start sends the callbacks the dead process owed', async () => {
    const web = await receiver();
    const database = tempDb();
    const first = await start(database);
    const carol = await request('POST', `${first.api}/Calls.json`, {
      To: 'sim:carol',
      From: '+15005550006',
      Twiml: `<Response><Dial><Conference statusCallback="${web.baseUrl}/conference" statusCallbackEvent="join leave end">crashing</Conference></Dial></Response>`,
      StatusCallback: `${web.baseUrl}/status`,
      StatusCallbackEvent: 'completed',
    });
    await requested(web, (r) => r.path === '/conference' && r.params.StatusCallbackEvent === 'participant-join');
    first.child.kill('SIGKILL');
    await first.exit;
    expect(web.requests.some((r) => r.path === '/status')).toBe(false);

    await start(database);
    const completed = await requested(web, (r) => r.path === '/status');
    expect(completed.params).toMatchObject({ CallSid: carol.json.sid, CallStatus: 'completed' });
    const leave = await requested(web, (r) => r.path === '/conference' && r.params.StatusCallbackEvent === 'participant-leave');
    expect(leave.params).toMatchObject({ CallSid: carol.json.sid, ReasonParticipantLeft: 'participant_hung_up', ParticipantCallStatus: 'completed' });
    await requested(web, (r) => r.path === '/conference' && r.params.StatusCallbackEvent === 'conference-end');
  });
});
