/**
 * What a person reading Conclave's log sees of a call (issue 15 §4): one info line per step —
 * created, ringing, answered, joined and left its conference, ended with its status and
 * duration — each with the CallSid (and ConferenceSid); an unreachable webhook is one warn line
 * (URL, error code, time taken) with no stack, which only debug has; so is a waitUrl that fails.
 */
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver } from '../helpers/webhook-receiver.js';

interface LogLine {
  level: number;
  msg: string;
  callSid?: string;
  conferenceSid?: string;
  err?: { stack?: string };
  [key: string]: unknown;
}

function capture(level: 'info' | 'debug'): { lines: LogLine[]; logger: Logger } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { lines, logger: pino({ level }, sink) };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the log of a call', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('has one info line per step of a call in a conference, each naming the call', async () => {
    const { lines, logger } = capture('info');
    t = await startTestApp('sqlite', { logger });
    const api = `/2010-04-01/Accounts/${t.accountSid}`;
    const created = await t.request('POST', `${api}/Calls.json`, { form: { To: 'sim:alice', From: '+15005550006', Twiml: '<Response><Dial><Conference>standup</Conference></Dial></Response>' } });
    const callSid = created.json<{ sid: string }>().sid;
    await vi.waitFor(() => expect(lines.some((l) => l.msg.includes(`call ${callSid} joined conference`))).toBe(true), { timeout: 10_000 });
    await t.request('POST', `${api}/Calls/${callSid}.json`, { form: { Status: 'completed' } });
    await vi.waitFor(() => expect(lines.some((l) => l.msg.startsWith(`call ${callSid} ended`))).toBe(true), { timeout: 10_000 });

    const ofCall = lines.filter((l) => l.callSid === callSid && l.level === 30).map((l) => l.msg.replace(/CF[0-9a-f]{32}/, 'CF…'));
    expect(ofCall).toEqual([
      `call ${callSid} created: outbound-api from +15005550006 to sim:alice`,
      `call ${callSid} ringing`,
      `call ${callSid} answered`,
      `call ${callSid} joined conference CF… "standup"`,
      `call ${callSid} left conference CF… "standup": hung-up-via-api`,
      `call ${callSid} ended: completed after 0 s`,
    ]);
    const joined = lines.find((l) => l.msg.includes('joined conference'))!;
    expect(joined.conferenceSid).toMatch(/^CF[0-9a-f]{32}$/);
    expect(lines.find((l) => l.msg.startsWith(`call ${callSid} ended`))).toMatchObject({ status: 'completed', duration: 0 });
    expect(lines.some((l) => l.msg === `conference ${joined.conferenceSid} "standup" ended: last-participant-left`)).toBe(true);
  });

  it.each(['info', 'debug'] as const)('logs an unreachable webhook in one warn line without a stack (at %s; the stack only at debug)', async (level) => {
    const { lines, logger } = capture(level);
    t = await startTestApp('sqlite', { logger });
    const url = `http://127.0.0.1:${await closedPort()}/voice`;
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, { form: { To: 'sim:alice', From: '+15005550006', Url: url } });
    const callSid = created.json<{ sid: string }>().sid;
    await vi.waitFor(() => expect(lines.some((l) => l.msg.startsWith(`call ${callSid} ended`))).toBe(true), { timeout: 10_000 });

    const failures = lines.filter((l) => l.level >= 40 && l.callSid === callSid);
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect(failure!.msg).toMatch(new RegExp(`^webhook failed: POST ${url}: ECONNREFUSED, error 11200, after \\d+ ms$`));
    expect(failure).toMatchObject({ url, method: 'POST', code: 11200, causeCode: 'ECONNREFUSED', ms: expect.any(Number) });
    expect(JSON.stringify(failure).length).toBeLessThan(600);
    expect(lines.filter((l) => l.level >= 30 && JSON.stringify(l).includes('    at '))).toEqual([]); // no stack at info and above
    const stacks = lines.filter((l) => l.level === 20 && l.callSid === callSid && l.err?.stack);
    expect(stacks).toHaveLength(level === 'debug' ? 1 : 0);
  });

  it('says the HTTP status of a webhook that answers 500', async () => {
    const { lines, logger } = capture('info');
    t = await startTestApp('sqlite', { logger });
    const web = await startReceiver((_r, response) => answer(response, 500, 'text/plain', 'boom'));
    try {
      const url = `${web.baseUrl}/voice`;
      const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, { form: { To: 'sim:alice', From: '+15005550006', Url: url } });
      const callSid = created.json<{ sid: string }>().sid;
      await vi.waitFor(() => expect(lines.some((l) => l.msg.startsWith(`call ${callSid} ended`))).toBe(true), { timeout: 10_000 });
      const failures = lines.filter((l) => l.level >= 40 && l.callSid === callSid);
      expect(failures.map((l) => l.msg.replace(/after \d+ ms/, 'after N ms'))).toEqual([`webhook failed: POST ${url}: HTTP 500, error 11200, after N ms`]);
      expect(failures[0]).toMatchObject({ status: 500, code: 11200 });
    } finally {
      await web.close();
    }
  });

  it('logs a waitUrl that does not answer in one warn line without a stack, and the call goes on', async () => {
    const { lines, logger } = capture('info');
    t = await startTestApp('sqlite', { logger });
    const waitUrl = `http://127.0.0.1:${await closedPort()}/wait`;
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
      form: { To: 'sim:alice', From: '+15005550006', Twiml: `<Response><Dial><Conference waitUrl="${waitUrl}">lobby</Conference></Dial></Response>` },
    });
    const callSid = created.json<{ sid: string }>().sid;
    const failure = await vi.waitFor(
      () => {
        const found = lines.find((l) => l.level === 40 && l.callSid === callSid);
        expect(found).toBeDefined();
        return found!;
      },
      { timeout: 10_000 },
    );
    expect(failure.msg).toMatch(new RegExp(`gave nothing to play \\(playing the default .* music\\): POST ${waitUrl}: ECONNREFUSED, error 11200$`));
    expect(failure).toMatchObject({ url: waitUrl, code: 11200 });
    expect(lines.filter((l) => l.level >= 30 && JSON.stringify(l).includes('    at '))).toEqual([]);
    expect((await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}.json`)).json()).toMatchObject({ status: 'in-progress' });
  });
});
