/**
 * `conclave serve` as a user starts it: the banner says where the API listens, which store it
 * uses and the credentials; generated credentials are kept in a 0600 file and reused; the
 * printed credentials work; bad configuration stops the start with one clear line; SIGTERM
 * closes it cleanly.
 */
import { createSocket } from 'node:dgram';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { answer, startReceiver } from '../helpers/webhook-receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-cli-'));
  dirs.push(dir);
  return dir;
}

function serve(env: Record<string, string>, args: string[] = []): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', ...args], {
    cwd: ROOT,
    // SIP on a free port: parallel test servers must not fight over 5060.
    env: { PATH: process.env.PATH ?? '', CONCLAVE_LOG_LEVEL: 'warn', CONCLAVE_SIP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

/** Resolves with stdout once the banner is complete (it ends with the curl example). */
function banner(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Try: curl')) resolve(out);
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

function field(text: string, label: string): string {
  const match = new RegExp(`${label}:\\s+(\\S+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${label} in ${text}`);
  return match[1];
}

describe('conclave serve', () => {
  it('prints where it listens, the store and generated credentials, kept 0600 and reused', async () => {
    const dir = tempDir();
    const db = join(dir, 'data', 'conclave.db');
    const first = serve({ CONCLAVE_DATABASE: db }, ['--port', '0']);
    const out = await banner(first);
    expect(out).toMatch(/^Conclave is listening on http:\/\/127\.0\.0\.1:\d+\/2010-04-01$/m);
    expect(out).toContain(`Store: SQLite at ${db}`);
    expect(out).toMatch(/^Console: http:\/\/127\.0\.0\.1:\d+\/console \(sign in with the Account SID and Auth token above\)$/m);
    expect(out).toMatch(/^Browsers: http:\/\/127\.0\.0\.1:\d+\/client\/conclave-voice\.js signs in with Access Tokens at ws:\/\/127\.0\.0\.1:\d+\/client\/v1/m);
    expect(out).toMatch(/^SIP: sip:<number>@127\.0\.0\.1:\d+ \(UDP and TCP\); RTP ports 10000-20000$/m);
    const sid = field(out, 'Account SID');
    const token = field(out, 'Auth token');
    expect(sid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const credentials = join(dir, 'data', 'credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);

    const url = /listening on (\S+)\/2010-04-01/.exec(out)![1];
    const res = await fetch(`${url}/2010-04-01/Accounts/${sid}.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sid: string }).sid).toBe(sid);

    const stopped = exited(first);
    first.kill('SIGTERM');
    expect((await stopped).code).toBe(0);

    const second = serve({ CONCLAVE_DATABASE: db }, ['--port', '0']);
    const again = await banner(second);
    expect(field(again, 'Account SID')).toBe(sid);
    expect(field(again, 'Auth token')).toBe(token);
  });

  it('uses CONCLAVE_ACCOUNT_SID and CONCLAVE_AUTH_TOKEN when given', async () => {
    const dir = tempDir();
    const sid = `AC${'ab'.repeat(16)}`;
    const out = await banner(
      serve({ CONCLAVE_DATABASE: join(dir, 'c.db'), CONCLAVE_ACCOUNT_SID: sid, CONCLAVE_AUTH_TOKEN: 'f'.repeat(32), CONCLAVE_HTTP_PORT: '0' }),
    );
    expect(out).toContain('from CONCLAVE_ACCOUNT_SID / CONCLAVE_AUTH_TOKEN');
    expect(field(out, 'Account SID')).toBe(sid);
  });

  it('says plainly when the SIP port is taken', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    try {
      const result = await exited(serve({ CONCLAVE_DATABASE: join(tempDir(), 'c.db'), CONCLAVE_SIP_PORT: String(taken.address().port) }, ['--port', '0']));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/SIP cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\); set CONCLAVE_SIP_PORT/);
    } finally {
      taken.close();
    }
  });

  it('conclave join puts participants in a conference that the API then lists', async () => {
    const dir = tempDir();
    const env = { CONCLAVE_DATABASE: join(dir, 'c.db') };
    const run = (args: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'join', ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', ...env },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`join exited ${code}`))));
      });
    const first = await run(['--conference', 'standup', '--label', 'alice']);
    await run(['--conference', 'standup', '--muted']);
    const cf = /ConferenceSid (CF[0-9a-f]{32})/.exec(first)![1];
    const out = await banner(serve(env, ['--port', '0']));
    const url = /listening on (\S+)\/2010-04-01/.exec(out)![1];
    const sid = field(out, 'Account SID');
    const auth = `Basic ${Buffer.from(`${sid}:${field(out, 'Auth token')}`).toString('base64')}`;
    const res = await fetch(`${url}/2010-04-01/Accounts/${sid}/Conferences/${cf}/Participants.json?Muted=true`, { headers: { authorization: auth } });
    const body = (await res.json()) as { participants: Array<{ muted: boolean; label: string | null }> };
    expect(body.participants).toHaveLength(1);
    expect(body.participants[0]).toMatchObject({ muted: true, label: null });
  });

  it('conclave call places a simulated inbound call through the running server', async () => {
    const web = await startReceiver((_request, response) => answer(response, 200, 'text/xml', '<Response><Hangup/></Response>'));
    try {
      const env = { CONCLAVE_DATABASE: join(tempDir(), 'c.db') };
      const out = await banner(serve(env, ['--port', '0']));
      const url = /listening on (\S+)\/2010-04-01/.exec(out)![1]!;
      const port = new URL(url).port;
      const sid = field(out, 'Account SID');
      const auth = `Basic ${Buffer.from(`${sid}:${field(out, 'Auth token')}`).toString('base64')}`;
      const number = await fetch(`${url}/2010-04-01/Accounts/${sid}/IncomingPhoneNumbers.json`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ PhoneNumber: '+15005550006', VoiceUrl: `${web.baseUrl}/voice` }).toString(),
      });
      expect(number.status).toBe(201);
      const printed = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'call', '--from', 'sim:bob', '--to', '+15005550006', '--port', port], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', ...env },
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`call exited ${code}`))));
      });
      const callSid = /CallSid (CA[0-9a-f]{32})/.exec(printed)![1]!;
      await web.received(1);
      expect(web.requests[0]!.params).toMatchObject({ CallSid: callSid, Direction: 'inbound', From: 'sim:bob' });
    } finally {
      await web.close();
    }
  });

  it.each([
    [{ CONCLAVE_HTTP_PORT: 'eighty' }, /CONCLAVE_HTTP_PORT=eighty is not a TCP port/],
    [{ CONCLAVE_DATABASE: 'mysql://x' }, /unknown engine/],
    [{ CONCLAVE_ACCOUNT_SID: 'AC123' }, /go together/],
    [{ CONCLAVE_ACCOUNT_SID: 'nope', CONCLAVE_AUTH_TOKEN: 'x'.repeat(32) }, /not an account SID/],
    [{ CONCLAVE_SIP_PORT: 'x' }, /CONCLAVE_SIP_PORT=x is not a TCP port/],
    [{ CONCLAVE_RTP_PORTS: '20000-10000' }, /CONCLAVE_RTP_PORTS=20000-10000 is not a port range/],
    [{ CONCLAVE_SIP_HOST: 'localhost' }, /CONCLAVE_SIP_HOST=localhost is not an IPv4 address/],
  ])('stops on bad configuration %o with one line', async (env, message) => {
    const result = await exited(serve({ CONCLAVE_DATABASE: join(tempDir(), 'c.db'), ...env }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});
