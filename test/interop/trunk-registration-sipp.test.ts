/**
 * Conclave registering with a carrier trunk played by real sipp (issue 14 §4): sipp is the
 * carrier's registrar — 401 with a Digest challenge (qop=auth), the REGISTER again with
 * credentials checked by sipp's own `<verifyauth>`, 200 granting 4 s — then sees the refresh
 * arrive about 2 s later (checked again; granted 120 s, so no other comes during the test),
 * delivers a call to the registered Contact with the number in To
 * (answered 200 by the number's TwiML, then BYE; on the registration's Call-ID, which sipp
 * matches messages by), and takes the unregistration (Expires: 0)
 * when Conclave shuts down. Everything on 127.0.0.1; sipp exits 0 only if all of it happened
 * in that order. Over UDP, and over TCP where sipp keeps the one connection Conclave opened and
 * sends the call back on it.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { freeTcpPort } from '../helpers/free-port.js';
import { ownNumber, startTestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp } from '../helpers/webhook-receiver.js';
import { pcmuOffer } from './helpers/scenarios.js';
import { runSipp } from './helpers/sipp.js';

const NUMBER = '+15005550177';
const USERNAME = 'acme';
const PASSWORD = 'sipp-secret-9';

const REPLY = `[last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTagR[call_number]
      [last_Call-ID:]
      [last_CSeq:]`;

/**
 * A REGISTER whose Contact must ask for `expires` seconds (else the scenario fails) and whose
 * credentials `<verifyauth>` checks: on to `label`, else 403 and the end. Its Contact URI is kept.
 */
const verifiedRegister = (label: string, expires: number): string => `
  <recv request="REGISTER">
    <action>
      <verifyauth assign_to="authvalid" username="${USERNAME}" password="${PASSWORD}" />
      <ereg regexp="&lt;(sip:[^&gt;]*)&gt;;expires=${expires}" search_in="hdr" header="Contact:" check_it="true" assign_to="whole,contact" />
    </action>
  </recv>
  <nop hide="true" test="authvalid" next="${label}" />
  <send next="done">
    <![CDATA[
      SIP/2.0 403 Forbidden
      ${REPLY}
      Content-Length: 0

    ]]>
  </send>
  <label id="${label}" />`;

/** A request of the carrier's call to our registered Contact (`[$contact]`), the number in To; after the INVITE with the 200's To tag. */
const callRequest = (method: 'INVITE' | 'ACK' | 'BYE', seq: number): string => `${method} [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:+15005550006@carrier.test>;tag=[pid]SIPpTagC[call_number]
      To: <sip:${NUMBER}@carrier.test>${method === 'INVITE' ? '' : '[peer_tag_param]'}
      Call-ID: [call_id]
      CSeq: ${seq} ${method}
      Max-Forwards: 70`;

const granted = (expires: string): string => `
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      ${REPLY}
      Contact: <[$contact]>;expires=${expires}
      Expires: ${expires}
      Content-Length: 0

    ]]>
  </send>`;

const CARRIER_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="carrier registrar and call delivery">
  <recv request="REGISTER" />
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      ${REPLY}
      WWW-Authenticate: Digest realm="carrier.test", nonce="[pid]n[clock_tick]", algorithm=MD5, qop="auth"
      Content-Length: 0

    ]]>
  </send>
  ${verifiedRegister('first', 600)}
  ${granted('4')}
  ${verifiedRegister('refresh', 600)}
  ${granted('120')}
  <send retrans="500">
    <![CDATA[
      ${callRequest('INVITE', 1)}
      Contact: <sip:carrier@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

${pcmuOffer('carrier')}

    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
  <recv response="200" rtd="true" />
  <send>
    <![CDATA[
      ${callRequest('ACK', 1)}
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      ${callRequest('BYE', 2)}
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />
  ${verifiedRegister('removal', 0)}
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      ${REPLY}
      Content-Length: 0

    ]]>
  </send>
  <label id="done" />
</scenario>
`;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('sipp as the carrier Conclave registers with', () => {
  // Over TCP sipp (one connection, t1) sends the call back on the connection the REGISTERs came on.
  it.each([
    { transport: 'udp', sippTransport: 'u1', uriParams: '' },
    { transport: 'tcp', sippTransport: 't1', uriParams: ';transport=tcp' },
  ] as const)('checks the digest, sees the refresh, delivers a call to the Contact for the number in To, and sees the unregistration ($transport)', async ({ transport, sippTransport, uriParams }) => {
    const sippPort = await freeTcpPort();
    const { web, routes } = await startTwimlApp();
    cleanups.push(() => web.close());
    routes.set('/voice', () => '<Response><Pause length="10"/></Response>');
    const lines: Array<{ level: number; msg: string }> = [];
    // sipp listens first; Conclave registers as it starts.
    const result = runSipp({ scenario: { xml: CARRIER_SCENARIO }, target: '127.0.0.1:5060', localPort: sippPort, timeoutMs: 30_000, transport: sippTransport });
    await Promise.race([
      until(async () => !(await canBind(sippPort, transport)), 5000, 'sipp listening'),
      result.then((r) => Promise.reject(new Error(`sipp exited early: ${r.command}\n${r.stderr}\n${r.errors}`))),
    ]);
    const t = await startTestApp('sqlite', {
      sip: true,
      sipTrunk: { uri: `sip:127.0.0.1:${sippPort}${uriParams}`, auth: { username: USERNAME, password: PASSWORD }, register: true, registerExpires: 600 },
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) }),
    });
    let closed = false;
    cleanups.push(() => (closed ? undefined : t.close()));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
    await until(() => web.requests.find((r) => r.path.startsWith('/voice')), 15_000, () => `the carrier-delivered call at the VoiceUrl; the log: ${lines.map((l) => l.msg).join(' | ')}`);
    expect(web.requests[0]!.params.To).toBe(NUMBER);
    // sipp hangs up (BYE) once answered: the call is completed before Conclave shuts down.
    const calls = `/2010-04-01/Accounts/${t.accountSid}/Calls.json?To=${encodeURIComponent(NUMBER)}&Status=completed`;
    await until(async () => (await t.request('GET', calls)).json<{ calls: unknown[] }>().calls.length === 1, 15_000, 'the call completed by sipp');
    closed = true;
    await t.close();
    const sipp = await result;
    expect(sipp.exitCode, `${sipp.command}\n${sipp.errors}\n${sipp.screen}`).toBe(0);
    expect(lines.filter((l) => l.msg.startsWith('SIP: registered with the carrier trunk'))).toHaveLength(1);
  });
});

/** Whether port `port` of 127.0.0.1 is free on `transport` (sipp has not bound it yet). */
function canBind(port: number, transport: 'udp' | 'tcp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (transport === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    } else {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    }
  });
}
