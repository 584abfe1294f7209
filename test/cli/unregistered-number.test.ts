/**
 * A simulated call to a number nobody registered: 404 / 20404, as before, but the message
 * names the number and says how to register it (IncomingPhoneNumbers), not "…/SimulatedCalls.json
 * was not found" — through the REST resource and through `conclave call`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('POST SimulatedCalls to a number the account has not registered', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 404 / 20404 naming the number and how to register it', async () => {
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:bob', To: '+15550000000' } });
    expect(res.status).toBe(404);
    const body = res.json<{ code: number; status: number; message: string }>();
    expect(body).toMatchObject({ code: 20404, status: 404 });
    expect(body.message).toBe(
      `+15550000000 is not one of the IncomingPhoneNumbers of account ${t.accountSid}; register it first: ` +
        `POST /2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json with PhoneNumber=+15550000000 and VoiceUrl=<the URL of your TwiML>`,
    );
  });

  it('says when To is not an E.164 number at all', async () => {
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls.json`, { form: { From: 'sim:bob', To: '15550000000' } });
    expect(res.status).toBe(404);
    expect(res.json<{ message: string }>().message).toMatch(/^15550000000 is not an E\.164 number \(a \+ and up to 15 digits/);
  });

  it('is the same in XML, the default representation', async () => {
    const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SimulatedCalls`, { form: { From: 'sim:bob', To: '+15550000000' } });
    expect(res.status).toBe(404);
    expect(res.body).toContain('<Code>20404</Code>');
    expect(res.body).toContain('+15550000000 is not one of the IncomingPhoneNumbers');
  });
});

describe('conclave call to a number the account has not registered', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function conclave(args: string[], env: Record<string, string>): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', CONCLAVE_LOG_LEVEL: 'warn', CONCLAVE_SIP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  it('exits 1 with one line saying the number is not registered and how to register it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-cli-'));
    dirs.push(dir);
    const env = { CONCLAVE_DATABASE: join(dir, 'c.db') };
    const server = conclave(['serve', '--port', '0'], env);
    const banner = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Try: curl')) resolve(out);
      });
      server.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const port = new URL(/listening on (\S+)\/2010-04-01/.exec(banner)![1]!).port;
    const sid = /Account SID:\s+(AC[0-9a-f]{32})/.exec(banner)![1]!;

    const call = conclave(['call', '--from', 'sim:bob', '--to', '+15550000000', '--port', port], env);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      let stdout = '';
      let stderr = '';
      call.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      call.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      call.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`conclave: the call was refused (404): +15550000000 is not one of the IncomingPhoneNumbers of account ${sid}`);
    expect(result.stderr).toContain(`POST /2010-04-01/Accounts/${sid}/IncomingPhoneNumbers.json with PhoneNumber=+15550000000`);
    expect(result.stderr).not.toContain('SimulatedCalls');
  });
});
