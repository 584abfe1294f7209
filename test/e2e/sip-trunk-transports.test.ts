/**
 * The carrier trunk's transport is the trunk URI's (issue 14 §4; RFC 3261 §18.1.1, §26.2.2):
 * CONCLAVE_SIP_TRUNK=sips:… puts calls to numbers on TLS, checked against the carrier's
 * certificate, and `;transport=tcp` on TCP. The Request-URI keeps the scheme and parameter, and
 * the carrier sees the INVITE arrive on that transport (its Via says so too).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../helpers/free-port.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certificates.js';
import { startTrunkApp, type TrunkApp } from '../helpers/trunk-app.js';
import { until } from '../helpers/until.js';

describe('the carrier trunk on TLS and TCP', () => {
  let certs: TestCertificates;
  let carrier: SipPhone | undefined;
  let t: TrunkApp | undefined;

  beforeAll(() => {
    certs = makeTestCertificates(['127.0.0.1', 'localhost']);
  });
  afterAll(() => certs.remove());
  afterEach(async () => {
    await t?.close();
    await carrier?.close();
    t = undefined;
    carrier = undefined;
  });

  /** Calls a number through the trunk; resolves with the carrier's INVITE once the call is up, then ends it. */
  async function callThrough(app: TrunkApp, phone: SipPhone): Promise<{ uri: string; via: string; transport: string | undefined }> {
    const created = await app.request('POST', `${app.calls}.json`, { form: { To: '+15557654321', From: '+15551230000', Twiml: '<Response><Pause length="30"/></Response>' } });
    expect(created.status).toBe(201);
    const sid = created.json<{ sid: string }>().sid;
    const incoming = await phone.invited;
    await until(async () => (await app.request('GET', `${app.calls}/${sid}.json`)).json<{ status: string }>().status === 'in-progress', 5_000, 'the call to be answered');
    // Listened for before the hang-up, which may be over by the time the REST call answers.
    const ended = phone.ended();
    await app.request('POST', `${app.calls}/${sid}.json`, { form: { Status: 'completed' } });
    expect((await ended).by).toBe('remote');
    return { uri: incoming.request.uri, via: incoming.request.headers.get('Via') ?? '', transport: incoming.source.transport };
  }

  it('sips: goes over TLS to the carrier', async () => {
    carrier = await SipPhone.open('carrier', 700, { answer: true, tls: { cert: certs.cert, key: certs.key, ca: certs.ca } });
    const tlsPort = Number(/:(\d+)$/.exec(carrier.sipsUri)?.[1]);
    t = await startTrunkApp({ uri: `sips:127.0.0.1:${tlsPort}` }, { sipTls: { port: await freeTcpPort(), certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile } });
    const invite = await callThrough(t, carrier);
    expect(invite.uri).toBe(`sips:+15557654321@127.0.0.1:${tlsPort};user=phone`);
    expect(invite.transport).toBe('tls');
    expect(invite.via).toMatch(/^SIP\/2\.0\/TLS /);
  });

  it(';transport=tcp goes over TCP to the carrier', async () => {
    carrier = await SipPhone.open('carrier', 700, { answer: true });
    const port = Number(/:(\d+)$/.exec(carrier.uri)?.[1]);
    t = await startTrunkApp({ uri: `sip:127.0.0.1:${port};transport=tcp` });
    const invite = await callThrough(t, carrier);
    expect(invite.uri).toBe(`sip:+15557654321@127.0.0.1:${port};transport=tcp;user=phone`);
    expect(invite.transport).toBe('tcp');
    expect(invite.via).toMatch(/^SIP\/2\.0\/TCP /);
  });
});
