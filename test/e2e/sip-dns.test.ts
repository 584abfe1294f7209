/**
 * Dialling SIP host names (RFC 3263) end to end: Conclave, told by CONCLAVE_SIP_DNS_SERVERS's
 * setting to ask a real DNS server (dnsmasq, started here), follows NAPTR → SRV → A for
 * `sip:bob@example.test`; the first server SRV names never answers, so the INVITE moves on to
 * the second, a phone that answers (RFC 3263 §4.3 failover on a timeout); a server answering
 * 503 is passed over the same way; a name DNS does not know fails the call; and a To that is
 * no SIP URI at all is refused with 400.
 */
import dgram from 'node:dgram';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { startDnsServer, type DnsServer } from '../helpers/dnsmasq.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { openTestStore } from '../helpers/stores.js';
import { apiClient, testConfig, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';

const twiml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;

describe('dialling SIP host names (RFC 3263)', () => {
  let dns: DnsServer;
  let silent: dgram.Socket;
  const silentInvites: string[] = [];
  let bob: SipPhone;
  let unavailable: SipPhone;
  let carol: SipPhone;
  let app: App;
  let request: TestApp['request'];
  let closeStore: () => Promise<void>;
  let calls: string;

  beforeAll(async () => {
    // A server that takes the INVITE and never says a word.
    silent = dgram.createSocket('udp4');
    silent.on('message', (data) => silentInvites.push(data.toString('utf8').split('\r\n')[0] ?? ''));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    bob = await SipPhone.open('bob', 400, { answer: true });
    unavailable = await SipPhone.open('unavailable', null);
    void unavailable.invited.then((incoming) => incoming.reject(503));
    carol = await SipPhone.open('carol', 500, { answer: true });
    const port = (phone: SipPhone): number => Number(/:(\d+)$/.exec(phone.uri)?.[1]);

    dns = await startDnsServer({
      naptr: [{ name: 'example.test', order: 10, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.example.test' }],
      srv: [
        { name: '_sip._udp.example.test', target: 'dead.example.test', port: silent.address().port, priority: 10, weight: 0 },
        { name: '_sip._udp.example.test', target: 'bob.example.test', port: port(bob), priority: 20, weight: 0 },
        // No NAPTR here: SRV alone.
        { name: '_sip._udp.busy.test', target: 'full.busy.test', port: port(unavailable), priority: 10, weight: 0 },
        { name: '_sip._udp.busy.test', target: 'carol.busy.test', port: port(carol), priority: 20, weight: 0 },
      ],
      a: { 'dead.example.test': ['127.0.0.1'], 'bob.example.test': ['127.0.0.1'], 'full.busy.test': ['127.0.0.1'], 'carol.busy.test': ['127.0.0.1'] },
    });

    const { store, cleanup } = await openTestStore('sqlite');
    closeStore = cleanup;
    const config = testConfig('sqlite', { sip: true });
    const accountSid = newSid('AC');
    const authToken = newAuthToken();
    app = await createApp({ ...config, sip: { ...config.sip!, dnsServers: [dns.address] } }, { accountSid, authToken }, { store, logger: pino({ level: 'silent' }) });
    request = apiClient(await app.listen(), accountSid, authToken);
    calls = `/2010-04-01/Accounts/${accountSid}/Calls`;
  });
  afterAll(async () => {
    await app?.close();
    await closeStore?.();
    for (const phone of [bob, unavailable, carol]) await phone?.close();
    silent?.close();
    await dns?.close();
  });

  const status = async (sid: string): Promise<string> => (await request('GET', `${calls}/${sid}.json`)).json<{ status: string }>().status;

  it('Calls.create to sip:bob@example.test reaches the phone behind the second SRV target once the first stays silent', async () => {
    const created = await request('POST', `${calls}.json`, { form: { To: 'sip:bob@example.test', From: '+15005550006', Twiml: twiml('<Pause length="30"/>') } });
    expect(created.status).toBe(201);
    const sid = created.json<{ sid: string }>().sid;
    const incoming = await bob.invited;
    // The INVITE went to the silent server first (and was retransmitted there, RFC 3261 §17.1.1.2).
    expect(silentInvites.length).toBeGreaterThanOrEqual(1);
    expect(silentInvites.every((line) => line === 'INVITE sip:bob@example.test SIP/2.0')).toBe(true);
    expect(incoming.request.uri).toBe('sip:bob@example.test');
    await until(async () => (await status(sid)) === 'in-progress', 5_000, 'the call to be answered');
    await request('POST', `${calls}/${sid}.json`, { form: { Status: 'completed' } });
  });

  it('<Dial><Sip> passes over a server answering 503 to the next one', async () => {
    const created = await request('POST', `${calls}.json`, { form: { To: 'sim:caller;tone=600', From: '+15005550006', Twiml: twiml('<Dial><Sip>sip:carol@busy.test</Sip></Dial>') } });
    expect(created.status).toBe(201);
    await unavailable.invited;
    await carol.invited;
    expect(await carol.hearsTone(600, 3000)).toBeGreaterThan(3000);
    await request('POST', `${calls}/${created.json<{ sid: string }>().sid}.json`, { form: { Status: 'completed' } });
  });

  it('fails a call to a name DNS does not know, and refuses a To that is no SIP URI with 400', async () => {
    const created = await request('POST', `${calls}.json`, { form: { To: 'sip:bob@nowhere.test', From: '+15005550006', Twiml: twiml('<Hangup/>') } });
    expect(created.status).toBe(201);
    const sid = created.json<{ sid: string }>().sid;
    await until(async () => (await status(sid)) === 'failed', 10_000, 'the call to fail');

    for (const to of ['sip:bob@exa_mple.test', 'sip:bob@-dash.test', 'sip:bob@example.test:0', 'sip:bob@1.2.3', 'sip:@', 'sip:bob@[2001:db8::1]']) {
      const refused = await request('POST', `${calls}.json`, { form: { To: to, From: '+15005550006', Twiml: twiml('<Hangup/>') } });
      expect(refused.status, to).toBe(400);
      expect(refused.json(), to).toMatchObject({ code: 21211 });
      expect(refused.json<{ message: string }>().message, to).toMatch(/^Invalid 'To': /);
    }
    for (const to of ['sip:bob@pbx.example.test:5070;transport=tcp', 'sips:bob@example.test', 'sip:bob@Elsewhere.TEST.', 'sip:+15551234567;user=phone@sbc.example.test']) {
      const accepted = await request('POST', `${calls}.json`, { form: { To: to, From: '+15005550006', Twiml: twiml('<Hangup/>') } });
      expect(accepted.status, to).toBe(201);
    }
  });
});
