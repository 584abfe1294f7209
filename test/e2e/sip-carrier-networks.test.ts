/**
 * Calls to numbers only from the networks that carry them (issue 14 §2): the real app on real
 * UDP, where every 127.x.y.z is an address of its own, so "another network" is another address.
 *
 * - The reliability probe, as an attacker would run it: 1,000 real INVITEs to an owned number
 *   from an address outside CONCLAVE_SIP_CARRIER_NETWORKS. Every one is refused — 403 with a
 *   Warning saying why, then, past the source's failure budget, 403 at once — no webhook is
 *   fetched, no call is listed, and the log holds two lines, not a thousand. The same source
 *   is then refused at once for a SIP Domain too (one budget), while a carrier address calls
 *   the number and is answered.
 * - From outside the carrier networks, a host that is no SIP Domain gets 404, and a SIP Domain
 *   still follows its own rules (407, then in with the right password).
 * - The trunk's address is let in with no carrier network at all, given as an address or as a
 *   name found in DNS (a real dnsmasq); every other address is refused.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { DEFAULT_SIP_LIMITS, type SipConfig } from '../../src/config.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { writeOffer } from '../../src/sip/sdp/audio-session.js';
import { startDnsServer } from '../helpers/dnsmasq.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { openTestStore } from '../helpers/stores.js';
import { apiClient, testConfig, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver } from '../helpers/webhook-receiver.js';

const NUMBER = '+15005550006';
const DOMAIN = 'acme.example';
const PASSWORD = 'Correct-Horse-42';
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type LogLine = { level: number; msg: string } & Record<string, unknown>;

interface Started {
  app: App;
  sipPort: number;
  request: TestApp['request'];
  accountSid: string;
  web: Receiver;
  lines: LogLine[];
}

/** The real app with `sip` over the test's SIP settings, owning NUMBER (its TwiML pauses), its log kept. */
async function start(sip: Partial<SipConfig>): Promise<Started> {
  const { store, cleanup } = await openTestStore('sqlite');
  const base = testConfig('sqlite', { sip: true });
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const app = await createApp({ ...base, sip: { ...base.sip!, ...sip } }, { accountSid, authToken }, { store, logger });
  const request = apiClient(await app.listen(), accountSid, authToken);
  const { web, routes } = await startTwimlApp();
  cleanups.push(cleanup, () => app.close(), () => web.close());
  routes.set('/voice', () => '<Response><Pause length="5"/></Response>');
  const res = await request('POST', `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` } });
  expect(res.status, res.body).toBe(201);
  return { app, sipPort: app.sipAddress()!.port, request, accountSid, web, lines };
}

async function phone(name: string, host: string): Promise<SipPhone> {
  const opened = await SipPhone.open(name, 500, { host });
  cleanups.push(() => opened.close());
  return opened;
}

/** The status a dial failed with; 200 when it was answered. */
const outcome = (call: Promise<unknown>): Promise<number> => call.then(() => 200, (error: { status?: number }) => error.status ?? -1);

interface Final {
  status: number;
  warning?: string;
}

/**
 * A caller of raw UDP INVITEs from `host`, as a scanner sends them: each final answer is kept by
 * Call-ID and acknowledged (RFC 3261 §17.1.1.3: the ACK of a non-2xx reuses the INVITE's branch
 * and takes the To tag of the answer), so no answer is retransmitted.
 */
async function rawCaller(host: string, sipPort: number): Promise<{ invite(user: string): string; finals: Map<string, Final> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const port = socket.address().port;
  const sent = new Map<string, { requestUri: string; via: string; from: string }>();
  const finals = new Map<string, Final>();
  const send = (lines: string[], body = ''): void => {
    const text = [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
    socket.send(Buffer.from(text, 'latin1'), sipPort, '127.0.0.1');
  };
  socket.on('message', (data) => {
    const text = data.toString('latin1');
    const header = (name: string): string | undefined => new RegExp(`^${name}: *(.*?)\\r?$`, 'im').exec(text)?.[1];
    const status = Number(/^SIP\/2\.0 (\d{3}) /.exec(text)?.[1]);
    const callId = header('Call-ID') ?? '';
    const invite = sent.get(callId);
    if (!invite || status < 200) return;
    if (!finals.has(callId)) finals.set(callId, { status, ...(header('Warning') ? { warning: header('Warning')! } : {}) });
    send([`ACK ${invite.requestUri} SIP/2.0`, `Via: ${invite.via}`, 'Max-Forwards: 70', `From: ${invite.from}`, `To: ${header('To') ?? ''}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK']);
  });
  const sdp = writeOffer({ address: host, port: 30000, sessionId: '1', sessionVersion: 1 });
  return {
    finals,
    invite(user) {
      const callId = `${randomBytes(10).toString('hex')}@${host}`;
      const requestUri = `sip:${user}@127.0.0.1:${sipPort}`;
      const via = `SIP/2.0/UDP ${host}:${port};rport;branch=z9hG4bK${randomBytes(8).toString('hex')}`;
      const from = `<sip:probe@${host}:${port}>;tag=${randomBytes(4).toString('hex')}`;
      sent.set(callId, { requestUri, via, from });
      send([`INVITE ${requestUri} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: ${from}`, `To: <${requestUri}>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:probe@${host}:${port}>`, 'Content-Type: application/sdp'], sdp);
      return callId;
    },
  };
}

describe('calls to numbers from outside the carrier networks', () => {
  it('refuses a probe of 1,000 INVITEs — 403 with a reason, then at once — with no webhook, no call and two log lines; a carrier address still calls in', async () => {
    // The per-source INVITE rate limit is off, so that every INVITE reaches the carrier check.
    const t = await start({ carrierNetworks: ['192.0.2.0/24', '127.0.0.2'], limits: { ...DEFAULT_SIP_LIMITS, invitesPerSecond: 0 } });
    const domain = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains.json`, { form: { DomainName: DOMAIN, VoiceUrl: `${t.web.baseUrl}/voice` } });
    expect(domain.status).toBe(201);
    const probe = await rawCaller('127.0.0.1', t.sipPort);
    // In rounds of 50, each answered before the next: no round overruns the receive buffer.
    for (let round = 0; round < 20; round++) {
      const ids = Array.from({ length: 50 }, () => probe.invite(NUMBER));
      await vi.waitFor(() => expect(ids.filter((id) => probe.finals.has(id))).toHaveLength(50), { timeout: 10_000 });
    }
    const finals = [...probe.finals.values()];
    expect(finals).toHaveLength(1000);
    expect(finals.every((f) => f.status === 403)).toBe(true);
    // Ten failures spend the source's budget; each says why.
    const outside = finals.filter((f) => f.warning === '399 conclave "calls to numbers are taken from the carrier networks only, and 127.0.0.1 is not in them"');
    const throttled = finals.filter((f) => f.warning === '399 conclave "too many failed requests from 127.0.0.1; try again later"');
    expect(outside.length).toBeGreaterThanOrEqual(10);
    expect(outside.length).toBeLessThanOrEqual(12);
    expect(outside.length + throttled.length).toBe(1000);

    // The same source is out of budget for the domain too: refused before any challenge.
    const scanner = await phone('scanner', '127.0.0.1');
    expect(await outcome(scanner.dial(`sip:alice@${DOMAIN}`, { via: { host: '127.0.0.1', port: t.sipPort } }))).toBe(403);

    expect(t.web.requests).toEqual([]);
    const calls = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`);
    expect(calls.json<{ calls: unknown[] }>().calls).toEqual([]);
    // One line for the first refusal, one for the source out of budget; a summary of the other
    // refusals before the budget ran out only if the run outlasted its 10 s interval.
    const told = t.lines.map((l) => l.msg).filter((msg) => msg.includes('127.0.0.1') || /refused/.test(msg));
    expect(told.filter((msg) => msg === `SIP: a call to ${NUMBER} from 127.0.0.1, outside the carrier networks, was refused (403)`)).toHaveLength(1);
    expect(told.filter((msg) => msg.startsWith('SIP: 127.0.0.1 keeps failing (calls from outside the carrier networks, to domains not here or with wrong credentials); its calls are refused at once for a while (403)'))).toHaveLength(1);
    expect(told.length).toBeLessThanOrEqual(3);

    // A carrier's address calls the number: answered, and its TwiML runs.
    const carrier = await phone('carrier', '127.0.0.2');
    await carrier.dial(`sip:${NUMBER}@127.0.0.1:${t.sipPort}`);
    await until(() => t.web.requests.find((r) => r.path === '/voice'), 10_000, 'the number VoiceUrl');
  });

  it('answers 404 for a host that is no SIP Domain, and lets a SIP Domain decide for itself', async () => {
    const t = await start({ carrierNetworks: ['192.0.2.0/24'] });
    const list = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/CredentialLists.json`, { form: { FriendlyName: 'staff' } });
    const listSid = list.json<{ sid: string }>().sid;
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/CredentialLists/${listSid}/Credentials.json`, { form: { Username: 'bob', Password: PASSWORD } });
    const domain = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains.json`, { form: { DomainName: DOMAIN, VoiceUrl: `${t.web.baseUrl}/voice` } });
    const domainSid = domain.json<{ sid: string }>().sid;
    const mapped = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains/${domainSid}/Auth/Calls/CredentialListMappings.json`, { form: { CredentialListSid: listSid } });
    expect(mapped.status).toBe(201);
    const via = { host: '127.0.0.1', port: t.sipPort };

    const stranger = await phone('stranger', '127.0.0.3');
    expect(await outcome(stranger.dial(`sip:${NUMBER}@elsewhere.example`, { via }))).toBe(404);
    expect(await outcome(stranger.dial(`sip:alice@${DOMAIN}`, { via }))).toBe(407);
    await stranger.dial(`sip:alice@${DOMAIN}`, { via, auth: { username: 'bob', password: PASSWORD } });
    const voice = await until(() => t.web.requests.find((r) => r.path === '/voice'), 10_000, 'the domain VoiceUrl');
    expect(voice.params).toMatchObject({ To: `sip:alice@${DOMAIN}`, SipDomain: DOMAIN, SipSourceIp: '127.0.0.3' });
    expect(t.lines.map((l) => l.msg)).toContain(`SIP: a call to elsewhere.example, no SIP Domain here, from 127.0.0.3 was refused (404)`);
  });
});

describe("the trunk's addresses", () => {
  const trunk = (uri: string): Partial<SipConfig> => ({ carrierNetworks: [], trunk: { uri, register: false, registerExpires: 600 } });

  it('lets in the trunk given as an address, with no carrier network, and no one else', async () => {
    const t = await start(trunk('sip:127.0.0.4:5080'));
    const other = await phone('other', '127.0.0.1');
    expect(await outcome(other.dial(`sip:${NUMBER}@127.0.0.1:${t.sipPort}`))).toBe(403);
    const carrier = await phone('carrier', '127.0.0.4');
    await carrier.dial(`sip:${NUMBER}@127.0.0.1:${t.sipPort}`);
    await until(() => t.web.requests.find((r) => r.path === '/voice'), 10_000, 'the number VoiceUrl');
  });

  it('lets in the addresses DNS gives for the trunk’s name (SRV targets), and no one else', async () => {
    const dns = await startDnsServer({
      srv: [{ name: '_sip._udp.carrier.test', target: 'edge1.carrier.test', port: 5060, priority: 10, weight: 0 }],
      a: { 'edge1.carrier.test': ['127.0.0.5'], 'carrier.test': ['127.0.0.6'] },
    });
    cleanups.push(() => dns.close());
    const t = await start({ ...trunk('sip:carrier.test'), dnsServers: [dns.address] });
    const other = await phone('other', '127.0.0.6');
    expect(await outcome(other.dial(`sip:${NUMBER}@127.0.0.1:${t.sipPort}`))).toBe(403);
    const carrier = await phone('carrier', '127.0.0.5');
    await carrier.dial(`sip:${NUMBER}@127.0.0.1:${t.sipPort}`);
    await until(() => t.web.requests.find((r) => r.path === '/voice'), 10_000, 'the number VoiceUrl');
    expect(t.lines.map((l) => l.msg)).toContain('SIP: calls to numbers are taken from the trunk at 127.0.0.5');
  });
});
