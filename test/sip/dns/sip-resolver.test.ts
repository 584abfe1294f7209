/**
 * RFC 3263 §4 against a real DNS server (dnsmasq, test/helpers/dnsmasq.ts): NAPTR → SRV → A,
 * SRV without NAPTR, A without either, and the short cuts of a numeric host, a port and a
 * transport in the URI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipResolutionError, SipResolver } from '../../../src/sip/dns/sip-resolver.js';
import { parseSipUri, type SipUri } from '../../../src/sip/sip-uri.js';
import { startDnsServer, type DnsServer } from '../../helpers/dnsmasq.js';

const uri = (text: string): SipUri => parseSipUri(text) ?? expect.unreachable(`${text} parses`);
/** A name's A records come in the order the server rotates them to (round robin): compare as sets. */
const sorted = <T extends { host: string }>(targets: T[]): T[] => [...targets].sort((a, b) => a.host.localeCompare(b.host));

describe('SipResolver (RFC 3263 §4)', () => {
  let dns: DnsServer;
  let resolver: SipResolver;

  beforeAll(async () => {
    dns = await startDnsServer({
      naptr: [
        // A TCP-first domain; the TLS record is skipped (Conclave speaks UDP and TCP).
        { name: 'naptr.test', order: 10, preference: 10, service: 'SIPS+D2T', replacement: '_sips._tcp.naptr.test' },
        { name: 'naptr.test', order: 20, preference: 10, service: 'SIP+D2T', replacement: '_sip._tcp.naptr.test' },
        { name: 'naptr.test', order: 30, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.naptr.test' },
        // NAPTR whose SRV name has no records: the domain's A records at 5060.
        { name: 'empty-srv.test', order: 10, preference: 10, service: 'SIP+D2T', replacement: '_sip._tcp.empty-srv.test' },
      ],
      srv: [
        { name: '_sips._tcp.naptr.test', target: 'tls.naptr.test', port: 5061, priority: 1, weight: 0 },
        { name: '_sip._tcp.naptr.test', target: 'tcp-backup.naptr.test', port: 5090, priority: 20, weight: 0 },
        { name: '_sip._tcp.naptr.test', target: 'tcp.naptr.test', port: 5080, priority: 10, weight: 0 },
        { name: '_sip._udp.naptr.test', target: 'udp.naptr.test', port: 5070, priority: 10, weight: 0 },
        // No NAPTR: SRV of each transport (UDP first).
        { name: '_sip._udp.srv.test', target: 'one.srv.test', port: 5062, priority: 10, weight: 0 },
        { name: '_sip._udp.srv.test', target: 'two.srv.test', port: 5064, priority: 20, weight: 0 },
        { name: '_sip._tcp.srv.test', target: 'one.srv.test', port: 5063, priority: 10, weight: 0 },
      ],
      a: {
        'tls.naptr.test': ['127.0.0.9'],
        'tcp.naptr.test': ['127.0.0.2'],
        'tcp-backup.naptr.test': ['127.0.0.3'],
        'udp.naptr.test': ['127.0.0.4'],
        'naptr.test': ['127.0.0.5'],
        'empty-srv.test': ['127.0.0.6'],
        'one.srv.test': ['127.0.0.7'],
        'two.srv.test': ['127.0.0.8', '127.0.0.18'],
        'plain.test': ['127.0.0.10', '127.0.0.11'],
      },
    });
    resolver = new SipResolver({ servers: [dns.address] });
  });
  afterAll(async () => {
    resolver?.close();
    await dns?.close();
  });

  it('follows NAPTR (order, services it speaks) to SRV (priority) to A', async () => {
    expect(await resolver.resolve(uri('sip:bob@naptr.test'))).toEqual([
      { transport: 'tcp', host: '127.0.0.2', port: 5080 },
      { transport: 'tcp', host: '127.0.0.3', port: 5090 },
      { transport: 'udp', host: '127.0.0.4', port: 5070 },
    ]);
  });

  it("asks for each transport's SRV records when there is no NAPTR, and uses every A record of a target", async () => {
    const targets = await resolver.resolve(uri('sip:bob@SRV.test'));
    expect(targets[0]).toEqual({ transport: 'udp', host: '127.0.0.7', port: 5062 });
    expect(sorted(targets.slice(1, 3))).toEqual([
      { transport: 'udp', host: '127.0.0.18', port: 5064 },
      { transport: 'udp', host: '127.0.0.8', port: 5064 },
    ]);
    expect(targets.slice(3)).toEqual([{ transport: 'tcp', host: '127.0.0.7', port: 5063 }]);
  });

  it("falls back to the host's A records at 5060 when there are no SRV records, over the NAPTR's transport if it had one", async () => {
    expect(sorted(await resolver.resolve(uri('sip:bob@plain.test')))).toEqual([
      { transport: 'udp', host: '127.0.0.10', port: 5060 },
      { transport: 'udp', host: '127.0.0.11', port: 5060 },
    ]);
    expect(await resolver.resolve(uri('sip:bob@empty-srv.test'))).toEqual([{ transport: 'tcp', host: '127.0.0.6', port: 5060 }]);
  });

  it('a port in the URI skips NAPTR and SRV: the A records at that port, over UDP', async () => {
    expect(await resolver.resolve(uri('sip:bob@naptr.test:5099'))).toEqual([{ transport: 'udp', host: '127.0.0.5', port: 5099 }]);
  });

  it("a transport in the URI skips NAPTR: that transport's SRV records, else the A records", async () => {
    expect(await resolver.resolve(uri('sip:bob@naptr.test;transport=udp'))).toEqual([{ transport: 'udp', host: '127.0.0.4', port: 5070 }]);
    expect(sorted(await resolver.resolve(uri('sip:bob@plain.test;transport=TCP')))).toEqual([
      { transport: 'tcp', host: '127.0.0.10', port: 5060 },
      { transport: 'tcp', host: '127.0.0.11', port: 5060 },
    ]);
    expect(await resolver.resolve(uri('sip:bob@naptr.test:5555;transport=tcp'))).toEqual([{ transport: 'tcp', host: '127.0.0.5', port: 5555 }]);
  });

  it('uses a numeric host as written, without asking DNS; maddr wins over the host', async () => {
    expect(await resolver.resolve(uri('sip:bob@192.0.2.10'))).toEqual([{ transport: 'udp', host: '192.0.2.10', port: 5060 }]);
    expect(await resolver.resolve(uri('sip:bob@192.0.2.10:5080;transport=tcp'))).toEqual([{ transport: 'tcp', host: '192.0.2.10', port: 5080 }]);
    expect(await resolver.resolve(uri('sip:bob@nowhere.test;maddr=plain.test'))).toHaveLength(2);
  });

  it('refuses what it cannot reach, saying why', async () => {
    await expect(resolver.resolve(uri('sip:bob@missing.test'))).rejects.toThrow(SipResolutionError);
    await expect(resolver.resolve(uri('sip:bob@missing.test'))).rejects.toThrow(/missing\.test: DNS names no SIP server/);
    await expect(resolver.resolve(uri('sips:bob@naptr.test'))).rejects.toThrow(/sips: needs TLS/);
    await expect(resolver.resolve(uri('sip:bob@naptr.test;transport=sctp'))).rejects.toThrow(/transport sctp is not one Conclave speaks/);
  });

  it('closes once, and then refuses', async () => {
    const closing = new SipResolver({ servers: [dns.address] });
    closing.close();
    closing.close();
    await expect(closing.resolve(uri('sip:bob@plain.test'))).rejects.toThrow(/closed/);
  });
});
