/**
 * SIP over TLS with SRTP media, both ways, with a real third-party phone (issue 14 §3): Debian's
 * baresip (its `srtp` module, account `;mediaenc=srtp-mand`: `RTP/SAVP` with SDES `a=crypto`,
 * RFC 4568) in a network namespace, against a Conclave with CONCLAVE_SIP_TLS_* set and a SIP
 * Domain with `Secure=true` (Twilio's secure media: SRTP only).
 *
 *  - baresip calls the Secure domain over TLS with SRTP and joins a conference: a sim there
 *    hears baresip's 400 Hz, and baresip's recording of what it received holds the sim's 600 Hz.
 *  - Conclave dials baresip's `sips:` URI with `;secure=true` from `<Dial><Sip>`: the same, the
 *    other way round.
 *  - baresip with plain RTP calling the Secure domain over TLS is refused with 488, and with
 *    SRTP over UDP with 403 (Twilio's Secure Media takes TLS and SRTP: secure-media-policy.ts).
 *
 * The audio checks are what proves SRTP works: each side authenticates (HMAC-SHA1) and decrypts
 * every packet, so a wrong key or suite is silence, not a tone.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip, type BaresipOptions } from './helpers/baresip.js';
import type { Conclave } from './helpers/conclave.js';
import { HEARD, simHears, startTlsBench, type TlsBench } from './helpers/tls-bench.js';
import { readWav, toneLevel } from './helpers/wav.js';

const DOMAIN = 'vault.acme.example';
const PHONE_HZ = 400;
const SIM_HZ = 600;

let bench: TlsBench | undefined;
const phones: Baresip[] = [];

beforeAll(async () => {
  bench = await startTlsBench(PHONE_HZ);
  const c = bench.conclave;
  const post = async (path: string, form: Record<string, string>): Promise<string> => {
    const res = await c.request('POST', path, form);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.body}`);
    return res.json<{ sid: string }>().sid;
  };
  const domain = await post('/SIP/Domains.json', { DomainName: DOMAIN, VoiceUrl: `${c.web.baseUrl}/voice`, Secure: 'true' });
  const acl = await post('/SIP/IpAccessControlLists.json', { FriendlyName: 'namespace' });
  await post(`/SIP/IpAccessControlLists/${acl}/IpAddresses.json`, { FriendlyName: 'baresip', IpAddress: bench.netns.nsAddress });
  await post(`/SIP/Domains/${domain}/Auth/Calls/IpAccessControlListMappings.json`, { IpAccessControlListSid: acl });
}, 30_000);

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await bench?.close();
});

function app(): Conclave {
  if (!bench) throw new Error('no Conclave');
  return bench.conclave;
}

let nextPort = 5270;
/**
 * A baresip with TLS (on sipPort + 1) playing 400 Hz; `sipsUri` reaches it over TLS. Its calls to
 * the domain go to Conclave (its outbound proxy: the name needs no DNS) at the TLS port, or the
 * plain SIP port with `transport: 'udp'`.
 */
async function phone(name: string, options: Pick<BaresipOptions, 'autoAnswer' | 'mediaenc'>, transport: 'tls' | 'udp' = 'tls'): Promise<{ phone: Baresip; sipsUri: string }> {
  const sipPort = nextPort;
  nextPort += 2;
  const { netns, phoneTone, phonePem, certs, tlsPort } = bench!;
  const c = app();
  const outbound = transport === 'tls' ? `;outbound="sip:${c.sipHost}:${tlsPort};transport=tls"` : `;outbound="sip:${c.sipHost}:${c.sipPort}"`;
  const p = await startBaresip({ netns, name, audioSource: phoneTone, sipPort, sipTrace: true, audioCodecs: 'pcmu', accountParams: outbound, tls: { certificate: phonePem, caFile: certs.caFile }, ...options });
  phones.push(p);
  return { phone: p, sipsUri: `sips:${name}@${netns.nsAddress}:${sipPort + 1}` };
}

/** The sim (`sim:…;record`) hears the phone's 400 Hz over the next two seconds (so the phone also has that long to hear the sim). */
function simHearsPhone(sim: string): Promise<void> {
  return simHears(app(), sim, PHONE_HZ, 2);
}

/** After the call, baresip's recording of what it received (sndfile `*-dec.wav`) holds the sim's 600 Hz. */
async function phoneHeardSim(p: Baresip): Promise<void> {
  await p.stop(true);
  const [file] = await p.recordings();
  expect(file, `no *-dec.wav recording\n${p.log}`).toBeDefined();
  const wav = await readWav(file as string);
  expect(wav.seconds, p.log).toBeGreaterThan(1.5);
  expect(toneLevel(wav, SIM_HZ, 0.4).amplitude, p.log).toBeGreaterThan(HEARD);
}

/** baresip's SIP trace shows `method` sent over TLS and the 200 OK's SDP with `RTP/SAVP` both ways. */
function expectTlsAndSavp(p: Baresip, requestLine: RegExp): void {
  expect(p.log).toMatch(new RegExp(`^TLS \\S+ -> \\S+\\r?\\n${requestLine.source}`, 'm'));
  expect(p.log.match(/^m=audio \d+ RTP\/SAVP /gm)?.length ?? 0, p.log).toBeGreaterThanOrEqual(2);
  expect(p.log).not.toMatch(/^m=audio \d+ RTP\/AVP /m);
}

describe('SIP over TLS with SRTP, with baresip', () => {
  it('baresip calls the Secure domain over TLS with SRTP, joins the conference, and each side hears the other', async () => {
    const c = app();
    const bob = await c.placeSim(`sim:bob;tone=${SIM_HZ};record`);
    const { phone: alice } = await phone('alice', { mediaenc: 'srtp-mand' });
    await alice.dial(`sip:alice@${DOMAIN}`);
    await alice.waitEvent('CALL_ESTABLISHED');
    const joined = await c.waitParticipant((e) => e.type === 'join' && e.participant.callSid !== bob.callSid && e.participant.status === 'connected');
    expect(joined.conference.sid).toBe(bob.conferenceSid);
    expectTlsAndSavp(alice, new RegExp(`INVITE sip:alice@${DOMAIN.replaceAll('.', '\\.')} `));
    await simHearsPhone(bob.callSid);
    await alice.hangup();
    await phoneHeardSim(alice);
  }, 30_000);

  it('Conclave dials baresip at its sips: URI with ;secure=true, and each side hears the other', async () => {
    const c = app();
    const { phone: carol, sipsUri } = await phone('carol', { autoAnswer: true, mediaenc: 'srtp-mand' });
    const created = await c.request('POST', '/Calls.json', { To: `sim:dave;tone=${SIM_HZ};record`, From: '+15005550006', Twiml: `<Response><Dial><Sip>${sipsUri};secure=true</Sip></Dial></Response>` });
    expect(created.status, created.body).toBe(201);
    await carol.waitEvent('CALL_ESTABLISHED');
    expectTlsAndSavp(carol, /INVITE sips:carol@/);
    await simHearsPhone(created.json<{ sid: string }>().sid);
    await carol.hangup();
    await phoneHeardSim(carol);
  }, 30_000);

  it('baresip with plain RTP calling the Secure domain over TLS is refused with 488', async () => {
    const { phone: plain } = await phone('plain', {});
    await plain.dial(`sip:plain@${DOMAIN}`);
    const closed = await plain.waitEvent('CALL_CLOSED');
    expect(closed.param, plain.log).toMatch(/^488 /);
    expect(plain.log).toMatch(/^TLS \S+ -> \S+\r?\nINVITE sip:plain@/m);
    expect(plain.log).toMatch(/^m=audio \d+ RTP\/AVP /m);
    expect(app().web.requests.some((r) => String(r.params.From).includes('plain@'))).toBe(false);
  }, 30_000);

  it('baresip with SRTP calling the Secure domain over UDP is refused with 403 (TLS required)', async () => {
    const { phone: udp } = await phone('udp', { mediaenc: 'srtp-mand' }, 'udp');
    await udp.dial(`sip:udp@${DOMAIN}`);
    const closed = await udp.waitEvent('CALL_CLOSED');
    expect(closed.param, udp.log).toMatch(/^403 /);
    expect(udp.log).toMatch(/^UDP \S+ -> \S+\r?\nINVITE sip:udp@/m);
  }, 30_000);
});
