/**
 * The SIP trace of a real call over UDP: `Calls/{CallSid}/SipMessages.json` (Conclave's own
 * resource) lists what went in and out, in order, and the log has one trace line per message
 * at CONCLAVE_LOG_LEVEL=trace; debug has the transactions' states, the dialog's life and the media leg's.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessageRecord } from '../../src/domain/sip-messages.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const NUMBER = '+15005550177';

interface LogLine {
  level: number;
  msg: string;
  sip?: string;
}

describe('the SIP messages of a call', () => {
  let t: TestApp;
  let web: Receiver;
  let phone: SipPhone;
  const lines: LogLine[] = [];

  beforeEach(async () => {
    lines.length = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    t = await startTestApp('sqlite', { sip: true, logger: pino({ level: 'trace' }, sink) });
    web = await startReceiver((_r, response) => answer(response, 200, 'text/xml', '<Response><Pause length="1"/><Hangup/></Response>'));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
    phone = await SipPhone.open('caller', null);
  });
  afterEach(async () => {
    await phone.close();
    await t.close();
    await web.close();
  });

  it('lists INVITE, 100, 180, 200, ACK, BYE, 200 in order, with addresses and text; the log traces each', async () => {
    const sipPort = t.app.sipAddress()!.port;
    const call = await phone.dial(`sip:${NUMBER}@127.0.0.1:${sipPort}`);
    await phone.ended();
    const callSid = await vi.waitFor(async () => {
      const calls = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`)).json<{ calls: { sid: string; status: string }[] }>().calls;
      expect(calls[0]?.status).toBe('completed');
      return calls[0]!.sid;
    });
    const url = `/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}/SipMessages.json`;
    const messages = await vi.waitFor(async () => {
      const got = (await t.request('GET', url)).json<{ messages: SipMessageRecord[] }>().messages;
      expect(got.at(-1)?.firstLine).toBe('SIP/2.0 200 OK');
      return got;
    });
    expect(messages.map((m) => `${m.direction} ${m.firstLine.replace(/ sip:\S+/, '')}`)).toEqual([
      'in INVITE SIP/2.0',
      'out SIP/2.0 100 Trying',
      'out SIP/2.0 180 Ringing',
      'out SIP/2.0 200 OK',
      'in ACK SIP/2.0',
      'out BYE SIP/2.0',
      'in SIP/2.0 200 OK',
    ]);
    const invite = messages[0]!;
    expect(invite).toMatchObject({ transport: 'udp', destination: `127.0.0.1:${sipPort}`, source: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(invite.text).toContain(`Call-ID: ${call.callId}`);
    expect(invite.text).toContain('m=audio');
    expect(Date.parse(invite.time)).toBeLessThanOrEqual(Date.parse(messages.at(-1)!.time));

    const traced = lines.filter((l) => l.level === 10 && l.msg.startsWith('SIP ') && l.sip?.includes(call.callId));
    expect(traced.map((l) => l.msg.replace(/ \S+ → \S+:/, ':'))).toEqual(expect.arrayContaining([`SIP in udp: INVITE sip:${NUMBER}@127.0.0.1:${sipPort} SIP/2.0`, 'SIP out udp: SIP/2.0 180 Ringing']));
    expect(lines.filter((l) => l.level >= 30 && l.msg.startsWith('SIP in '))).toEqual([]); // not at info unless CONCLAVE_SIP_TRACE=true

    // debug: the transactions' states, the dialog's life, the media leg's.
    const debug = lines.filter((l) => l.level === 20).map((l) => l.msg);
    expect(debug).toEqual(expect.arrayContaining([expect.stringMatching(/^SIP transaction z9hG4bK\S*\|INVITE: accepted$/), expect.stringMatching(/^SIP transaction z9hG4bK\S*\|BYE: completed$/)]));
    await vi.waitFor(() =>
      expect(lines.filter((l) => l.level === 20 && l.msg.includes(callSid)).map((l) => l.msg.replace(/: RTP port .*/, ''))).toEqual([
        `media leg of ${callSid} opened`,
        `SIP dialog of ${callSid} established (inbound)`,
        `SIP dialog of ${callSid} confirmed (ACK received)`,
        `SIP dialog of ${callSid} ended by the Conclave side: hangup`,
        `media leg of ${callSid} closed: hung-up`,
      ]),
    );
  });

  it('lists the messages of a call Conclave places to a phone, from its INVITE to the 200 to its BYE', async () => {
    const callee = await SipPhone.open('callee', null, { answer: true });
    try {
      const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, {
        form: { To: callee.uri, From: '+15005550006', Twiml: '<Response><Pause length="1"/><Hangup/></Response>' },
      });
      const callSid = created.json<{ sid: string }>().sid;
      const url = `/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}/SipMessages.json`;
      const messages = await vi.waitFor(
        async () => {
          const got = (await t.request('GET', url)).json<{ messages: SipMessageRecord[] }>().messages;
          expect(got.at(-1)?.firstLine).toBe('SIP/2.0 200 OK');
          expect(got.some((m) => m.firstLine.startsWith('BYE '))).toBe(true);
          return got;
        },
        { timeout: 10_000 },
      );
      const lines = messages.map((m) => `${m.direction} ${m.firstLine.replace(/ sip:\S+/, '')}`);
      expect(lines[0]).toBe('out INVITE SIP/2.0');
      const at = (line: string): number => lines.indexOf(line);
      expect(at('in SIP/2.0 200 OK')).toBeGreaterThan(0);
      expect(at('out ACK SIP/2.0')).toBeGreaterThan(at('in SIP/2.0 200 OK'));
      expect(at('out BYE SIP/2.0')).toBeGreaterThan(at('out ACK SIP/2.0'));
      expect(messages[0]!.destination).toBe(callee.uri.replace(/^sip:callee@/, ''));
    } finally {
      await callee.close();
    }
  });

  it('is 404 for a call the account does not have', async () => {
    const res = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/CA00000000000000000000000000000000/SipMessages.json`);
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ code: 20404 });
  });
});
