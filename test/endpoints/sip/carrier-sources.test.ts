/**
 * Who may call numbers (carrier-sources.ts): the carrier networks, and the trunk's addresses —
 * its host when that is an address, else what a real DNS server (dnsmasq) gives for its name,
 * looked up again on a timer; a look-up that fails keeps the addresses found before.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CarrierSources, type CarrierSourcesOptions } from '../../../src/endpoints/sip/carrier-sources.js';
import { SipResolver } from '../../../src/sip/dns/sip-resolver.js';
import { startDnsServer } from '../../helpers/dnsmasq.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Told {
  level: 'info' | 'warn';
  msg: string;
}

async function open(options: Omit<CarrierSourcesOptions, 'resolver' | 'logger'>, servers: string[] = []): Promise<{ sources: CarrierSources; told: Told[] }> {
  const told: Told[] = [];
  // Short DNS timeouts: a dead server is given up on in a tenth of a second.
  const resolver = new SipResolver({ servers, queryTimeoutMs: 100, tries: 1 });
  const logger = { info: (_o: object, msg: string) => told.push({ level: 'info', msg }), warn: (_o: object, msg: string) => told.push({ level: 'warn', msg }) };
  const sources = await CarrierSources.open({ ...options, resolver, logger });
  cleanups.push(() => resolver.close(), () => sources.close());
  return { sources, told };
}

describe('carrier sources', () => {
  it('takes the carrier networks and a trunk given as an address', async () => {
    const { sources } = await open({ networks: ['203.0.113.0/24', '2001:db8::/32'], trunkUri: 'sip:198.51.100.7:5080;transport=tcp' });
    expect(['203.0.113.9', '2001:db8::1', '[2001:db8::1]', '198.51.100.7'].map((host) => sources.has(host))).toEqual([true, true, true, true]);
    expect(['203.0.114.1', '198.51.100.8', '127.0.0.1'].map((host) => sources.has(host))).toEqual([false, false, false]);
    expect(sources.trunkAddresses).toEqual(['198.51.100.7']);
  });

  it('takes none but the trunk with no networks, and no one with neither (said at start)', async () => {
    const none = await open({ networks: [] });
    expect(none.sources.has('127.0.0.1')).toBe(false);
    expect(none.told).toEqual([{ level: 'warn', msg: 'SIP: no carrier network and no trunk (CONCLAVE_SIP_CARRIER_NETWORKS=none, no CONCLAVE_SIP_TRUNK): every call to a number is refused (403)' }]);
    const trunk = await open({ networks: [], trunkUri: 'sip:127.0.0.4' });
    expect(trunk.sources.has('127.0.0.4')).toBe(true);
    expect(trunk.told).toEqual([]);
  });

  it("finds a trunk name's addresses in DNS and keeps them when a later look-up fails", async () => {
    const dns = await startDnsServer({ a: { 'trunk.carrier.test': ['127.0.0.7', '127.0.0.8'] } });
    cleanups.push(() => dns.close());
    const { sources, told } = await open({ networks: [], trunkUri: 'sip:trunk.carrier.test', refreshMs: 50, retryMs: 50 }, [dns.address]);
    expect(sources.has('127.0.0.7') && sources.has('127.0.0.8')).toBe(true);
    expect(sources.has('127.0.0.9')).toBe(false);
    expect(told).toEqual([{ level: 'info', msg: 'SIP: calls to numbers are taken from the trunk at 127.0.0.7, 127.0.0.8' }]);

    await dns.close();
    await vi.waitFor(() => expect(told.filter((t) => t.level === 'warn')).toHaveLength(1), { timeout: 5_000 });
    expect(told[1]!.msg).toMatch(/^SIP: cannot find the addresses of the trunk trunk\.carrier\.test in DNS \(.*\); still taking calls from 127\.0\.0\.7, 127\.0\.0\.8; trying again$/);
    expect(sources.trunkAddresses).toEqual(['127.0.0.7', '127.0.0.8']);
  });

  it('lets no trunk address in while its name is not found, and says so once', async () => {
    const dns = await startDnsServer({ a: { 'other.carrier.test': ['127.0.0.7'] } });
    cleanups.push(() => dns.close());
    const { sources, told } = await open({ networks: [], trunkUri: 'sip:trunk.carrier.test', refreshMs: 50, retryMs: 50 }, [dns.address]);
    expect(sources.trunkAddresses).toEqual([]);
    expect(told).toHaveLength(1);
    expect(told[0]!.msg).toMatch(/; calls from it are refused until it is found; trying again$/);
    sources.close();
    expect(sources.closed).toBe(true);
    sources.close();
  });
});
