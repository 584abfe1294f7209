/**
 * A carrier trunk named by a host name (issue 14 §4): CONCLAVE_SIP_TRUNK=sip:trunk.test, and a
 * real DNS server (dnsmasq, started here) serving SRV for `_sip._udp.trunk.test` that points to
 * the test's SIP phone on its own port. A call to a number is INVITEd as
 * `sip:<number>@trunk.test;user=phone` and reaches the phone where SRV says it is (RFC 3263 §4.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../helpers/dnsmasq.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { startTrunkApp, type TrunkApp } from '../helpers/trunk-app.js';
import { until } from '../helpers/until.js';

describe('a carrier trunk reached by name (DNS SRV)', () => {
  let dns: DnsServer;
  let carrier: SipPhone;
  let t: TrunkApp;

  beforeAll(async () => {
    carrier = await SipPhone.open('carrier', 700, { answer: true });
    const port = Number(/:(\d+)$/.exec(carrier.uri)?.[1]);
    dns = await startDnsServer({
      srv: [{ name: '_sip._udp.trunk.test', target: 'edge1.trunk.test', port, priority: 10, weight: 0 }],
      a: { 'edge1.trunk.test': ['127.0.0.1'] },
    });
    t = await startTrunkApp({ uri: 'sip:trunk.test' }, { sipDnsServers: [dns.address] });
  });
  afterAll(async () => {
    await t?.close();
    await carrier?.close();
    await dns?.close();
  });

  it('Calls.create to a number reaches the SRV target of the trunk name, the Request-URI naming the trunk', async () => {
    const { request, calls } = t;
    const created = await request('POST', `${calls}.json`, { form: { To: '+15557654321', From: '+15551230000', Twiml: '<Response><Pause length="30"/></Response>' } });
    expect(created.status).toBe(201);
    const sid = created.json<{ sid: string }>().sid;
    const incoming = await carrier.invited;
    expect(incoming.request.uri).toBe('sip:+15557654321@trunk.test;user=phone');
    expect(incoming.from?.uri).toBe('sip:+15551230000@127.0.0.1;user=phone');
    await until(async () => (await request('GET', `${calls}/${sid}.json`)).json<{ status: string }>().status === 'in-progress', 5_000, 'the call to be answered');
    const ended = carrier.ended(); // listened for before the hang-up, which may be over when the REST call answers
    await request('POST', `${calls}/${sid}.json`, { form: { Status: 'completed' } });
    expect((await ended).by).toBe('remote');
  });
});
