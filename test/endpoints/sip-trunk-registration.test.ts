/**
 * Conclave's registration with a carrier trunk (sip-trunk-registration.ts) against a registrar
 * that checks the digest itself (test/helpers/carrier-registrar.ts), over real UDP: the REGISTER
 * and its fields, the refresh at half the granted expiry on the same Call-ID, 423 Min-Expires,
 * a wrong password retried with growing gaps and one warn line, recovery with one info line,
 * and the unregistration on close — bounded when the carrier stops answering.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { SipTrunkRegistration, type TrunkRegistrationLogger } from '../../src/endpoints/sip/sip-trunk-registration.js';
import { SipResolver } from '../../src/sip/dns/sip-resolver.js';
import { contacts, cseq, type SipRequest } from '../../src/sip/message.js';
import { SipCombinedTransport } from '../../src/sip/transport/combined-transport.js';
import { SipUserAgent } from '../../src/sip/ua/user-agent.js';
import { CarrierRegistrar, type CarrierRegistrarOptions } from '../helpers/carrier-registrar.js';
import { startDnsServer } from '../helpers/dnsmasq.js';
import { until } from '../helpers/until.js';

const USERNAME = 'conclave-trunk';
const PASSWORD = 'right-horse-battery';

interface Line {
  level: 'info' | 'warn';
  msg: string;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A registrar, and our registration with it from a real user agent on 127.0.0.1. */
async function start(
  registrarOptions: Partial<CarrierRegistrarOptions> & { grant: number },
  options: { password?: string; expires?: number; retry?: { firstMs: number; maxMs: number }; trunkUri?: string; dnsServers?: string[] } = {},
) {
  const registrar = await CarrierRegistrar.start({ username: USERNAME, password: PASSWORD, ...registrarOptions });
  const transport = await SipCombinedTransport.open({ host: '127.0.0.1', port: 0 });
  const ua = new SipUserAgent({ transport, address: transport.address });
  const resolver = new SipResolver(options.dnsServers ? { servers: options.dnsServers } : {});
  const lines: Line[] = [];
  const logger: TrunkRegistrationLogger = {
    info: (_fields, msg) => void lines.push({ level: 'info', msg }),
    warn: (_fields, msg) => void lines.push({ level: 'warn', msg }),
  };
  cleanups.push(() => registrar.close(), () => transport.close(), () => ua.close(), () => resolver.close());
  const registration = new SipTrunkRegistration({
    trunk: { uri: options.trunkUri ?? `sip:127.0.0.1:${registrar.port}`, auth: { username: USERNAME, password: options.password ?? PASSWORD }, register: true, registerExpires: options.expires ?? 600 },
    ua,
    contact: transport.address,
    resolver,
    logger,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  cleanups.push(() => registration.close());
  return { registrar, registration, lines, port: transport.address.port };
}

const seqOf = (request: SipRequest): number => cseq(request)!.seq;

describe('registration with the carrier trunk', () => {
  it('registers with digest, refreshes at half the granted expiry on the same Call-ID, and unregisters on close', async () => {
    const { registrar, registration, lines, port } = await start({ grant: 4 });
    await until(() => registration.state === 'registered', 5000, 'a registration');
    const first = registrar.answered(200)[0]!;
    // The first REGISTER went without credentials and was challenged; the second answered it.
    const [challenged] = registrar.registers;
    expect(challenged!.status).toBe(401);
    expect(challenged!.request.headers.get('Authorization')).toBeUndefined();
    const request = first.request;
    expect(request.uri).toBe(`sip:127.0.0.1:${registrar.port}`);
    expect(request.headers.get('To')).toBe(`<sip:${USERNAME}@127.0.0.1>`);
    expect(request.headers.get('From')).toMatch(new RegExp(`^<sip:${USERNAME}@127\\.0\\.0\\.1>;tag=`));
    expect(contacts(request)[0]!.uri).toBe(`sip:${USERNAME}@127.0.0.1:${port}`);
    expect(first.expires).toBe(600);
    expect(request.headers.get('Authorization')).toMatch(/qop=auth, nc=00000001, cnonce="/);
    expect(seqOf(request)).toBe(seqOf(challenged!.request) + 1);
    expect(lines).toEqual([{ level: 'info', msg: expect.stringMatching(/^SIP: registered with the carrier trunk sip:127\.0\.0\.1:\d+ as conclave-trunk for 4 s \(refreshed every 2 s\)$/) }]);

    // The refresh: about 2 s after the 200 (half of the 4 s granted), same Call-ID, higher CSeq,
    // with the kept challenge answered again (nonce count 2) instead of a new round trip.
    const refresh = await until(() => registrar.answered(200)[1], 6000, 'a refresh');
    const gap = refresh.at - first.at;
    expect(gap).toBeGreaterThan(1500);
    expect(gap).toBeLessThan(3500);
    expect(refresh.request.headers.get('Call-ID')).toBe(request.headers.get('Call-ID'));
    expect(seqOf(refresh.request)).toBeGreaterThan(seqOf(request));
    expect(refresh.request.headers.get('Authorization')).toMatch(/nc=00000002/);
    expect(lines).toHaveLength(1); // refreshes are not logged

    const closing = performance.now();
    await registration.close();
    expect(performance.now() - closing).toBeLessThan(2000);
    expect(registration.closed).toBe(true);
    const last = registrar.registers.at(-1)!;
    expect(last.expires).toBe(0);
    expect(last.request.headers.get('Expires')).toBe('0');
    expect(last.status).toBe(200);
    expect(lines.at(-1)).toEqual({ level: 'info', msg: expect.stringMatching(/^SIP: unregistered from the carrier trunk/) });
    await registration.close(); // idempotent
  });

  it('takes the Min-Expires of a 423 and answers a SHA-256 challenge', async () => {
    const { registrar, registration } = await start({ grant: 3600, minExpires: 3600, algorithm: 'SHA-256' });
    await until(() => registration.state === 'registered', 5000, 'a registration');
    const granted = registrar.answered(200)[0]!;
    expect(registrar.answered(423).map((r) => r.expires)).toEqual([600]);
    expect(granted.expires).toBe(3600);
    expect(granted.request.headers.get('Authorization')).toMatch(/algorithm=SHA-256/);
  });

  it('retries a wrong password less and less often with one warn line, and says once when it is registered at last', async () => {
    const { registrar, registration, lines } = await start({ grant: 600 }, { password: 'wrong', retry: { firstMs: 300, maxMs: 1200 } });
    const refused = await until(() => (registrar.answered(403).length >= 4 ? registrar.answered(403) : undefined), 10_000, 'four refused registrations');
    expect(registration.state).toBe('failed');
    const gaps = refused.slice(1).map((r, i) => r.at - refused[i]!.at);
    // 300 ms, then 600, then 1200 (the cap): each a little later than scheduled, never sooner.
    expect(gaps[0]).toBeGreaterThanOrEqual(290);
    expect(gaps[1]).toBeGreaterThanOrEqual(590);
    expect(gaps[2]).toBeGreaterThanOrEqual(1190);
    expect(gaps[1]! - gaps[0]!).toBeGreaterThan(200);
    expect(lines).toEqual([
      { level: 'warn', msg: expect.stringMatching(/^SIP: registration with the carrier trunk sip:127\.0\.0\.1:\d+ failed: 403 Forbidden \(are CONCLAVE_SIP_TRUNK_USERNAME and CONCLAVE_SIP_TRUNK_PASSWORD right\?\); retrying in 0\.3 s /) },
    ]);

    registrar.password = 'wrong'; // the carrier's account is fixed to what we send
    await until(() => registration.state === 'registered', 5000, 'a registration once the carrier takes the password');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
  });

  it('finds the trunk by name in DNS (SRV) and registers with the next server when the first answers 503', async () => {
    const down = await CarrierRegistrar.start({ username: USERNAME, password: PASSWORD, grant: 600, refuseWith: 503 });
    cleanups.push(() => down.close());
    const peer = await CarrierRegistrar.start({ username: USERNAME, password: PASSWORD, grant: 600 });
    cleanups.push(() => peer.close());
    const dns = await startDnsServer({
      srv: [
        { name: '_sip._udp.carrier.test', target: 'sbc1.carrier.test', port: down.port, priority: 10, weight: 0 },
        { name: '_sip._udp.carrier.test', target: 'sbc2.carrier.test', port: peer.port, priority: 20, weight: 0 },
      ],
      a: { 'sbc1.carrier.test': ['127.0.0.1'], 'sbc2.carrier.test': ['127.0.0.1'] },
    });
    cleanups.push(() => dns.close());
    // The registrar `start` makes is not in DNS: this registration goes to `down`, then `peer`.
    const { registration } = await start({ grant: 600 }, { trunkUri: 'sip:carrier.test', dnsServers: [dns.address] });
    await until(() => registration.state === 'registered', 10_000, 'a registration through DNS');
    expect(down.answered(503)).toHaveLength(1);
    const granted = peer.answered(200)[0]!.request;
    expect(granted.uri).toBe('sip:carrier.test');
    expect(granted.headers.get('To')).toBe(`<sip:${USERNAME}@carrier.test>`);
    await registration.close();
    expect(peer.registers.at(-1)!.expires).toBe(0); // removed where it was made
    expect(down.registers).toHaveLength(1);
  });

  it('waits out a Retry-After longer than its backoff', async () => {
    const { registrar, lines } = await start({ grant: 600, refuseWith: 503, retryAfter: 1 }, { retry: { firstMs: 100, maxMs: 400 } });
    const [first, second] = await until(() => (registrar.answered(503).length >= 2 ? registrar.answered(503) : undefined), 5000, 'a second attempt');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
    expect(lines).toEqual([{ level: 'warn', msg: expect.stringMatching(/failed: 503 Service Unavailable; retrying in 1 s /) }]);
  });

  it('does not hold up close for more than ~2 s when the carrier stops answering', async () => {
    const { registrar, registration, lines } = await start({ grant: 600 });
    await until(() => registration.state === 'registered', 5000, 'a registration');
    registrar.answering = false;
    const closing = performance.now();
    await registration.close();
    const took = performance.now() - closing;
    expect(took).toBeGreaterThan(1900);
    expect(took).toBeLessThan(2600);
    expect(registrar.registers.at(-1)!.expires).toBe(0);
    expect(lines.at(-1)).toEqual({ level: 'warn', msg: expect.stringMatching(/did not confirm the unregistration \(no answer\)/) });
  });
});
