/**
 * SIP over TLS with a real third-party phone (issue 14 §3): Debian's baresip in a network
 * namespace, with certificates from a throwaway CA (openssl) for the namespace's two addresses,
 * against a Conclave with CONCLAVE_SIP_TLS_* set. Conclave dials baresip's `sips:` URI (its TLS
 * listener, baresip's SIP port + 1) from `<Dial><Sip>`, and baresip dials Conclave's number at
 * its TLS port with `;transport=tls` (baresip 1.0's `dial` turns a `sips:` URI into
 * `sip:sips:…`); each time the call goes over TLS (baresip's SIP trace) and baresip's tone is
 * heard on Conclave's side.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../helpers/free-port.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certificates.js';
import { startBaresip, type Baresip } from './helpers/baresip.js';
import { NUMBER, startConclave, type Conclave } from './helpers/conclave.js';
import { createNetns, type Netns } from './helpers/netns.js';
import { requireTools } from './helpers/tools.js';
import { frameLevels, meanLevel, writeToneWav } from './helpers/wav.js';

const PHONE_HZ = 400;
const HEARD = 0.1;
const RATE = 8000;

let netns: Netns;
let scratch: string;
let tone400: string;
let certs: TestCertificates;
let phonePem: string;
let conclave: Conclave | undefined;
let tlsPort: number;
const phones: Baresip[] = [];

beforeAll(async () => {
  requireTools('baresip', 'sox', 'ip');
  scratch = await mkdtemp(join(tmpdir(), 'conclave-interop-tls-'));
  tone400 = join(scratch, 'tone400.wav');
  await writeToneWav(tone400, { freq: PHONE_HZ, seconds: 30 });
  netns = await createNetns();
  certs = makeTestCertificates([netns.hostAddress, netns.nsAddress]);
  // baresip takes its certificate and key from one file.
  phonePem = join(scratch, 'phone.pem');
  await writeFile(phonePem, certs.cert + certs.key);
  tlsPort = await freeTcpPort();
  conclave = await startConclave(netns, { sipTls: { port: tlsPort, certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile } });
}, 30_000);

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await conclave?.close();
  await netns?.destroy();
  certs?.remove();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

let nextPort = 5070;
async function phone(name: string, autoAnswer: boolean): Promise<{ phone: Baresip; sipsUri: string }> {
  const sipPort = nextPort;
  nextPort += 2;
  const p = await startBaresip({ netns, name, audioSource: tone400, sipPort, sipTrace: true, autoAnswer, tls: { certificate: phonePem, caFile: certs.caFile } });
  phones.push(p);
  return { phone: p, sipsUri: `sips:${name}@${netns.nsAddress}:${sipPort + 1}` };
}

async function simHearsPhone(c: Conclave, sim: string): Promise<void> {
  const from = (await c.recording(sim)).length;
  const heard = (await c.recordingUntil(sim, from + Math.round(1.2 * RATE))).subarray(from);
  const tail = heard.subarray(heard.length - RATE / 2);
  expect(meanLevel(tail, PHONE_HZ), frameLevels(tail, PHONE_HZ).map((l) => l.toFixed(3)).join(' ')).toBeGreaterThan(HEARD);
}

describe('SIP over TLS with baresip', () => {
  it('Conclave dials baresip at its sips: URI over TLS, and the caller hears it', async () => {
    const c = conclave!;
    const { phone: carol, sipsUri } = await phone('carol', true);
    const created = await c.request('POST', '/Calls.json', { To: 'sim:dave;record', From: '+15005550006', Twiml: `<Response><Dial><Sip>${sipsUri}</Sip></Dial></Response>` });
    expect(created.status, created.body).toBe(201);
    await carol.waitEvent('CALL_ESTABLISHED');
    expect(carol.log).toMatch(/^TLS \S+ -> \S+\r?\nINVITE sips:carol@/m);
    await simHearsPhone(c, created.json<{ sid: string }>().sid);
  }, 25_000);

  it('baresip dials the number at Conclave\'s TLS port with ;transport=tls, and the conference hears it', async () => {
    const c = conclave!;
    const bob = await c.placeSim('sim:bob;tone=600;record');
    const { phone: alice } = await phone('alice', false);
    await alice.dial(`sip:${NUMBER}@${c.sipHost}:${tlsPort};transport=tls`);
    await alice.waitEvent('CALL_ESTABLISHED');
    expect(alice.log).toMatch(new RegExp(`^TLS \\S+ -> ${c.sipHost.replaceAll('.', '\\.')}:${tlsPort}\\r?\\nINVITE sip:`, 'm'));
    await simHearsPhone(c, bob.callSid);
    await alice.hangup();
  }, 25_000);
});
