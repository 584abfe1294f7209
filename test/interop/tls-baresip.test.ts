/**
 * SIP over TLS with a real third-party phone (issue 14 §3): Debian's baresip in a network
 * namespace, with certificates from a throwaway CA (openssl) for the namespace's two addresses,
 * against a Conclave with CONCLAVE_SIP_TLS_* set. Conclave dials baresip's `sips:` URI (its TLS
 * listener, baresip's SIP port + 1) from `<Dial><Sip>`, and baresip dials Conclave's number at
 * its TLS port with `;transport=tls` (baresip 1.0's `dial` turns a `sips:` URI into
 * `sip:sips:…`); each time the call goes over TLS (baresip's SIP trace) and baresip's tone is
 * heard on Conclave's side.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from './helpers/baresip.js';
import { NUMBER, type Conclave } from './helpers/conclave.js';
import { simHears, startTlsBench, type TlsBench } from './helpers/tls-bench.js';

const PHONE_HZ = 400;

let bench: TlsBench | undefined;
const phones: Baresip[] = [];

beforeAll(async () => {
  bench = await startTlsBench(PHONE_HZ);
}, 30_000);

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await bench?.close();
});

let nextPort = 5070;
async function phone(name: string, autoAnswer: boolean): Promise<{ phone: Baresip; sipsUri: string }> {
  const sipPort = nextPort;
  nextPort += 2;
  const { netns, phoneTone, phonePem, certs } = bench!;
  const p = await startBaresip({ netns, name, audioSource: phoneTone, sipPort, sipTrace: true, autoAnswer, tls: { certificate: phonePem, caFile: certs.caFile } });
  phones.push(p);
  return { phone: p, sipsUri: `sips:${name}@${netns.nsAddress}:${sipPort + 1}` };
}

function simHearsPhone(c: Conclave, sim: string): Promise<void> {
  return simHears(c, sim, PHONE_HZ, 1.2);
}

describe('SIP over TLS with baresip', () => {
  it('Conclave dials baresip at its sips: URI over TLS, and the caller hears it', async () => {
    const c = bench!.conclave;
    const { phone: carol, sipsUri } = await phone('carol', true);
    const created = await c.request('POST', '/Calls.json', { To: 'sim:dave;record', From: '+15005550006', Twiml: `<Response><Dial><Sip>${sipsUri}</Sip></Dial></Response>` });
    expect(created.status, created.body).toBe(201);
    await carol.waitEvent('CALL_ESTABLISHED');
    expect(carol.log).toMatch(/^TLS \S+ -> \S+\r?\nINVITE sips:carol@/m);
    await simHearsPhone(c, created.json<{ sid: string }>().sid);
  }, 25_000);

  it('baresip dials the number at Conclave\'s TLS port with ;transport=tls, and the conference hears it', async () => {
    const c = bench!.conclave;
    const bob = await c.placeSim('sim:bob;tone=600;record');
    const { phone: alice } = await phone('alice', false);
    await alice.dial(`sip:${NUMBER}@${c.sipHost}:${bench!.tlsPort};transport=tls`);
    await alice.waitEvent('CALL_ESTABLISHED');
    expect(alice.log).toMatch(new RegExp(`^TLS \\S+ -> ${c.sipHost.replaceAll('.', '\\.')}:${bench!.tlsPort}\\r?\\nINVITE sip:`, 'm'));
    await simHearsPhone(c, bob.callSid);
    await alice.hangup();
  }, 25_000);
});
