/**
 * sipp (Debian sip-tester, SIPp 3.6.1) as the carrier trunk (issue 14 §4), in the private
 * network namespace, Conclave on the host end with CONCLAVE_SIP_TRUNK naming sipp. Calls.create
 * to an E.164 number reaches sipp, whose scenario checks what a carrier checks:
 *
 * - the first INVITE is answered 407 with a Proxy-Authenticate challenge (the carrier's proxy);
 * - the retry must carry Proxy-Authorization for the trunk's username, the number in the
 *   Request-URI (`;user=phone`), the caller ID as the From user and in P-Asserted-Identity
 *   (regexp actions with check_it: any miss fails the call);
 * - it is answered 401 in turn (the carrier's own server), and the next retry must keep the
 *   Proxy-Authorization and add an Authorization that sipp's `<verifyauth>` verifies with the
 *   trunk's password (RFC 3261 §22.3: credentials for each realm that challenged);
 * - then 200, ACK, and Conclave's BYE when the TwiML is done, which the proxy challenges too
 *   (407): Conclave sends it again with Proxy-Authorization and the call ends normally.
 *
 * SIPp's `<verifyauth>` reads only the Authorization header, never Proxy-Authorization (its
 * call.cpp), so the Proxy-Authorization sipp received is logged by the scenario and its digest
 * verified here with node:crypto (RFC 2617 §3.2.2).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrunkApp, type TrunkApp } from '../helpers/trunk-app.js';
import { until } from '../helpers/until.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { answerIfVerified, OK_TO_LAST, RESPONSE_HEADERS, screenCounts, waitListening } from './helpers/scenarios.js';
import { runSipp, type SippResult } from './helpers/sipp.js';
import { requireTools } from './helpers/tools.js';

const USERNAME = 'conclave-trunk';
const PASSWORD = 'trunk-pa55';
const PROXY_REALM = 'proxy.carrier.test';
const PROXY_NONCE = 'carrier-proxy-nonce-1';
const NUMBER = '+15557654321';
const CALLER_ID = '+15551230000';
const SIPP_PORT = 5170;

/** The headers of the INVITE being answered, kept: `[last_…]` would name an ACK that came after it. */
const KEEP_HEADERS = ['Via', 'From', 'To', 'Call-ID', 'CSeq']
  .map((name) => `      <ereg regexp=".*" search_in="hdr" header="${name}:" check_it="true" assign_to="${name.toLowerCase().replace('-', '')}" />`)
  .join('\n');

/** What the carrier requires of an INVITE with credentials: the number, the caller ID, the proxy's credentials. */
const CHECK_INVITE = `
      <ereg regexp="^INVITE sip:\\${NUMBER}@[^ ;]+;user=phone SIP/2\\.0" search_in="msg" check_it="true" assign_to="requestline" />
      <ereg regexp="sip:\\${CALLER_ID}@[0-9.]+;user=phone" search_in="hdr" header="From:" check_it="true" assign_to="fromuser" />
      <ereg regexp="^ *&lt;sip:\\${CALLER_ID}@[0-9.]+;user=phone&gt;" search_in="hdr" header="P-Asserted-Identity:" check_it="true" assign_to="asserted" />
      <ereg regexp="Digest .*username=&quot;${USERNAME}&quot;.*" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="proxyauth" />
${KEEP_HEADERS}`;

/** The ACK of a challenge and the retried INVITE may come in either order (RFC 3261 §17.1.1.2 leaves it open). */
const retried = (label: string, actions: string): string => `
  <recv request="ACK" optional="true" next="${label}-acked" />
  <recv request="INVITE"><action>${actions}
  </action></recv>
  <recv request="ACK" next="${label}-done" />
  <label id="${label}-acked" />
  <recv request="INVITE"><action>${actions}
  </action></recv>
  <label id="${label}-done" />`;

/** The carrier's proxy's 407 to the request received last, with `to` as its To. */
const proxyChallenge = (to: string): string => `  <send>
    <![CDATA[
      SIP/2.0 407 Proxy Authentication Required
      [last_Via:]
      [last_From:]
      ${to}
      [last_Call-ID:]
      [last_CSeq:]
      Proxy-Authenticate: Digest realm="${PROXY_REALM}", nonce="${PROXY_NONCE}", algorithm=MD5
      Content-Length: 0

    ]]>
  </send>`;

/** The carrier's proxy challenges the BYE too: 407, then the BYE again with Proxy-Authorization (logged) → 200. */
const CHALLENGED_BYE = `  <recv request="BYE" />
${proxyChallenge('[last_To:]')}
  <recv request="BYE">
    <action>
      <ereg regexp="Digest .*username=&quot;${USERNAME}&quot;.*" search_in="hdr" header="Proxy-Authorization:" check_it="true" assign_to="byeauth" />
      <log message="BYE Proxy-Authorization:[$byeauth]" />
    </action>
  </recv>
${OK_TO_LAST}`;

const TRUNK_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="conclave carrier trunk">
  <recv request="INVITE" crlf="true" />
${proxyChallenge('[last_To:];tag=[pid]proxy[call_number]')}
${retried('proxy', `${CHECK_INVITE}
      <log message="Proxy-Authorization:[$proxyauth]" />`)}
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      ${RESPONSE_HEADERS}
      WWW-Authenticate: Digest realm="uas.carrier.test", nonce="[pid]uas[call_number]", algorithm=MD5
      Content-Length: 0

    ]]>
  </send>
${retried('uas', `
      <verifyauth assign_to="authvalid" username="${USERNAME}" password="${PASSWORD}" />${CHECK_INVITE}`)}
${answerIfVerified('carrier', CHALLENGED_BYE)}
  <label id="done" />
</scenario>
`;

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** Whether a Digest credential for `method` answers the proxy's challenge with the trunk's password (RFC 2617 §3.2.2). */
function verifiesProxyDigest(value: string, method: string): boolean {
  const p: Record<string, string> = {};
  for (const m of value.matchAll(/([a-z0-9-]+)=(?:"([^"]*)"|([^\s,]+))/gi)) p[m[1]!.toLowerCase()] = m[2] ?? m[3]!;
  if (p.username !== USERNAME || p.realm !== PROXY_REALM || p.nonce !== PROXY_NONCE || !p.uri) return false;
  const ha1 = md5(`${USERNAME}:${PROXY_REALM}:${PASSWORD}`);
  const ha2 = md5(`${method}:${p.uri}`);
  const expected = p.qop ? md5(`${ha1}:${PROXY_NONCE}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${PROXY_NONCE}:${ha2}`);
  return p.response === expected;
}

describe('sipp as the carrier trunk', () => {
  let netns: Netns;
  let t: TrunkApp;
  let logs: string;

  beforeAll(async () => {
    requireTools('sipp', 'ip');
    netns = await createNetns();
    logs = await mkdtemp(join(tmpdir(), 'conclave-trunk-sipp-'));
    t = await startTrunkApp({ uri: `sip:${netns.nsAddress}:${SIPP_PORT}`, auth: { username: USERNAME, password: PASSWORD } }, { sipHost: netns.hostAddress });
  }, 30_000);

  afterAll(async () => {
    await t?.close();
    await netns?.destroy();
    if (logs) await rm(logs, { recursive: true, force: true });
  });

  const explain = (r: SippResult): string => `${r.command}\n${r.screen}\n${r.errors}\n${r.stderr}`;

  it('Calls.create to a number: 407 then 401 answered with the trunk credentials (verifyauth), the number and caller ID checked, 200, and the call ends normally', async () => {
    const { app, request, calls } = t;
    const logFile = join(logs, 'trunk.log');
    const sipp = runSipp({
      netns,
      scenario: { xml: TRUNK_SCENARIO },
      target: `${app.sipAddress()!.host}:${app.sipAddress()!.port}`,
      transport: 'u1',
      localPort: SIPP_PORT,
      timeoutMs: 15_000,
      extraArgs: ['-trace_logs', '-log_file', logFile],
    });
    // Conclave must not send its INVITE before sipp listens.
    await Promise.race([waitListening(netns, SIPP_PORT, 'udp'), sipp.then((r) => Promise.reject(new Error(`sipp exited early\n${explain(r)}`)))]);
    const created = await request('POST', `${calls}.json`, { form: { To: NUMBER, From: CALLER_ID, Twiml: '<Response><Pause length="1"/></Response>' } });
    expect(created.status, created.body).toBe(201);
    const sid = created.json<{ sid: string }>().sid;

    const result = await sipp;
    expect(result.exitCode, explain(result)).toBe(0);
    expect(result.successful).toBe(1);
    expect(screenCounts(result.screen, '401', 'sent'), explain(result)).toEqual([1]);
    expect(screenCounts(result.screen, '403', 'sent'), explain(result)).toEqual([0]);
    // The BYE challenged, then sent again with the proxy's credentials.
    expect(screenCounts(result.screen, 'BYE', 'received'), explain(result)).toEqual([1, 1]);
    expect(screenCounts(result.screen, '407', 'sent'), explain(result)).toEqual([1, 1]);
    // The Proxy-Authorization headers sipp logged: of the retried INVITEs, and of the BYE.
    const logged = (await readFile(logFile, 'utf8')).split('\n');
    const credentials = (prefix: string): string[] => logged.filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
    expect(credentials('Proxy-Authorization:').length, explain(result)).toBeGreaterThanOrEqual(1);
    for (const value of credentials('Proxy-Authorization:')) expect(verifiesProxyDigest(value, 'INVITE'), value).toBe(true);
    expect(credentials('BYE Proxy-Authorization:')).toHaveLength(1);
    expect(verifiesProxyDigest(credentials('BYE Proxy-Authorization:')[0]!, 'BYE')).toBe(true);

    const call = await until(async () => {
      const fetched = (await request('GET', `${calls}/${sid}.json`)).json<{ status: string; duration: string | null }>();
      return fetched.status === 'completed' ? fetched : undefined;
    }, 10_000, 'the call to complete');
    expect(call).toMatchObject({ status: 'completed', to: NUMBER, from: CALLER_ID });
    expect(Number(call.duration)).toBeGreaterThanOrEqual(1);
  }, 40_000);
});
