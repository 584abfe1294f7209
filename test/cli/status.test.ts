/**
 * The CLI as an operator uses it against a real server process: `--help`, `<command> --help`,
 * `--version`, usage errors (one line, exit 2), and `conclave status` listing the live
 * conference of two simulated callers; the server, started with CONCLAVE_SIP_TRACE=true, logs
 * the SIP messages of a phone's call at info.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { SipPhone } from '../helpers/sip-phone.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function conclave(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('conclave --help, --version and usage errors', () => {
  it('prints the commands, each command\'s help and the version', async () => {
    const help = await conclave(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: conclave serve /);
    for (const command of ['serve', 'status', 'call', 'join']) expect(help.stdout).toContain(`\n  ${command} `);
    const status = await conclave(['status', '--help']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^usage: conclave status \[--host HOST\] \[--port PORT\]/);
    expect((await conclave(['serve', '--help'])).stdout).toContain('CONCLAVE_SIP_TRACE=true');
    expect(await conclave(['--version'])).toEqual({ code: 0, stdout: `conclave ${VERSION}\n`, stderr: '' });
  });

  it.each([
    [['bogus'], /^conclave: unknown command "bogus"; see "conclave --help"$/],
    [['status', '--verbose'], /^conclave: Unknown option '--verbose'.*; see "conclave status --help"$/],
    [['serve', '--prot', '80'], /^conclave: Unknown option '--prot'.*; see "conclave serve --help"$/],
    [['call', '--from', 'sim:a'], /^conclave: --from and --to are required; see "conclave call --help"$/],
  ])('%j is one line on stderr and exit status 2', async (args, message) => {
    const result = await conclave(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });
});

describe('conclave status against a running server', () => {
  let server: NodeProcess;
  beforeAll(async () => {
    server = await startNodeProcess({ env: { CONCLAVE_DATABASE: ':memory:', CONCLAVE_SIP_TRACE: 'true' } });
  }, 90_000);
  afterAll(async () => {
    await server?.close();
  });

  const status = (): ReturnType<typeof conclave> =>
    conclave(['status', '--port', new URL(server.baseUrl).port], { CONCLAVE_ACCOUNT_SID: server.accountSid, CONCLAVE_AUTH_TOKEN: server.authToken });

  it('prints no conference, then the conference of two callers with their participants and the live calls', async () => {
    const empty = await status();
    expect(empty).toMatchObject({ code: 0, stderr: '' });
    expect(empty.stdout).toContain('Live calls: 0 in progress, 0 ringing, 0 queued');
    expect(empty.stdout).toContain('No live conference.');

    const twiml = '<Response><Dial><Conference>standup</Conference></Dial></Response>';
    const sids: string[] = [];
    for (const name of ['alice', 'bob']) {
      const created = await server.request('POST', '/Calls.json', { To: `sim:${name}`, From: '+15005550006', Twiml: twiml });
      expect(created.status).toBe(201);
      sids.push(created.json.sid as string);
    }
    const live = await vi.waitFor(
      async () => {
        const result = await status();
        expect(result.stdout).toContain('2 participants');
        return result;
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(live.code).toBe(0);
    expect(live.stdout).toContain('Live calls: 2 in progress, 0 ringing, 0 queued');
    expect(live.stdout).toMatch(/Live conferences: 1\n {2}standup {2}CF[0-9a-f]{32} {2}2 participants, up \d+m \d\ds\n/);
    for (const sid of sids) expect(live.stdout).toContain(`    ${sid}`);
  }, 60_000);

  it('says which server does not answer, or which refused the credentials, in one line (exit 1)', async () => {
    const port = new URL(server.baseUrl).port;
    const refused = await conclave(['status', '--port', port], { CONCLAVE_ACCOUNT_SID: server.accountSid, CONCLAVE_AUTH_TOKEN: 'x'.repeat(32) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^conclave: http:\/\/127\.0\.0\.1:\d+ refused the owner's credentials \(401\)/);
  });

  it('logs each SIP message at info with CONCLAVE_SIP_TRACE=true', async () => {
    const phone = await SipPhone.open('tracer', null);
    try {
      const target = `sip:nobody@127.0.0.1:${server.sipPort}`;
      await expect(phone.dial(target)).rejects.toMatchObject({ status: 404 });
      const invite = JSON.parse(await server.logLine(['"level":30', `SIP in udp 127.0.0.1:`, `INVITE ${target} SIP/2.0`])) as { sip: string };
      expect(invite.sip).toContain('m=audio');
      await server.logLine(['"level":30', 'SIP out udp', 'SIP/2.0 404 Not Found']);
    } finally {
      await phone.close();
    }
  });
});
