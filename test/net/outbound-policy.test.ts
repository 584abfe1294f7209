/**
 * The outbound policy's rules on addresses and names: the built-in list (link-local, metadata
 * services in their IPv4, IPv6, IPv4-mapped, NAT64 and 6to4 forms, "this host"), the operator's
 * lists (deny wins over allow; allow opens the built-in list), and the reading of those lists.
 */
import { describe, expect, it } from 'vitest';
import { BUILT_IN_DENIED, NetworkListError, OutboundPolicy, parseNetworks } from '../../src/net/outbound-policy.js';

const rules = (allow: string, deny: string): ConstructorParameters<typeof OutboundPolicy>[0] => ({ allow: parseNetworks(allow), deny: parseNetworks(deny) });
const allowed = (policy: OutboundPolicy, address: string): boolean => policy.checkAddress(address).allowed;

describe('parseNetworks', () => {
  it('reads CIDR blocks and bare addresses, IPv4 and IPv6, with spaces and empty entries', () => {
    expect(parseNetworks(' 10.0.0.0/8, fc00::/7 ,,192.0.2.7, ::1 ')).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4', text: '10.0.0.0/8' },
      { address: 'fc00::', prefix: 7, family: 'ipv6', text: 'fc00::/7' },
      { address: '192.0.2.7', prefix: 32, family: 'ipv4', text: '192.0.2.7' },
      { address: '::1', prefix: 128, family: 'ipv6', text: '::1' },
    ]);
    expect(parseNetworks('')).toEqual([]);
  });

  it('names the entry that is not a network', () => {
    for (const [list, message] of [
      ['10.0.0.0/8,example.com', 'example.com is not an IPv4 or IPv6 network'],
      ['10.0.0.0/33', '10.0.0.0/33 has no valid prefix length (0 to 32 for IPv4)'],
      ['fe80::/129', 'fe80::/129 has no valid prefix length (0 to 128 for IPv6)'],
      ['10.0.0.0/', '10.0.0.0/ has no valid prefix length (0 to 32 for IPv4)'],
      ['10.0.0.0/8/8', '10.0.0.0/8/8 has no valid prefix length (0 to 32 for IPv4)'],
      ['256.0.0.0/8', '256.0.0.0/8 is not an IPv4 or IPv6 network'],
      ['fe80::1%eth0', 'fe80::1%eth0 is not an IPv4 or IPv6 network'],
    ] as const) {
      expect(() => parseNetworks(list)).toThrow(new NetworkListError(message));
    }
  });
});

describe('OutboundPolicy', () => {
  const builtIn = new OutboundPolicy();

  it('refuses link-local and the metadata services by default, in every spelling of their addresses', () => {
    for (const address of [
      '169.254.169.254', // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
      '169.254.170.2', // AWS ECS
      '169.254.0.1',
      '169.254.255.255',
      'fe80::1',
      'fe80::1%eth0',
      'febf:ffff::1',
      '::ffff:169.254.169.254', // IPv4-mapped, both notations
      '::ffff:a9fe:a9fe',
      '64:ff9b::169.254.169.254', // NAT64
      '2002:a9fe:a9fe::1', // 6to4
      'fd00:ec2::254',
      'fd00:ec2::23',
      'fd20:ce::254',
      'fd00:42::42',
      '100.100.100.200',
      '168.63.129.16',
      '192.0.0.192',
      '0.0.0.0',
      '::',
      '[fd00:ec2::254]',
    ]) {
      expect(allowed(builtIn, address), address).toBe(false);
    }
  });

  it('allows loopback, private networks and the public Internet by default, so local apps keep working', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '10.1.2.3', '172.16.0.1', '192.168.1.10', 'fd12:3456::1', '100.64.0.1', '93.184.216.34', '2606:2800:220:1::', '::ffff:127.0.0.1', 'fd00:ec2::253']) {
      expect(allowed(builtIn, address), address).toBe(true);
    }
  });

  it('says which rule refused, for the operator', () => {
    expect(builtIn.checkAddress('169.254.169.254')).toEqual({ allowed: false, reason: '169.254.169.254 is in the built-in deny list (link-local): 169.254.0.0/16' });
    expect(builtIn.checkAddress('::ffff:a9fe:a9fe')).toEqual({ allowed: false, reason: '::ffff:a9fe:a9fe is in the built-in deny list (link-local): 169.254.0.0/16' });
    expect(new OutboundPolicy(rules('', '127.0.0.0/8')).checkAddress('127.0.0.1')).toEqual({ allowed: false, reason: '127.0.0.1 is in CONCLAVE_WEBHOOK_DENY: 127.0.0.0/8' });
    expect(builtIn.checkAddress('not-an-ip')).toEqual({ allowed: false, reason: 'not-an-ip is not an IP address' });
  });

  it('denies what CONCLAVE_WEBHOOK_DENY lists, IPv4-mapped forms included, on top of the built-in list', () => {
    const policy = new OutboundPolicy(rules('', '127.0.0.0/8,::1/128,10.0.0.0/8'));
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '::1', '10.9.8.7', '169.254.169.254']) expect(allowed(policy, address), address).toBe(false);
    for (const address of ['192.168.1.1', '93.184.216.34']) expect(allowed(policy, address), address).toBe(true);
  });

  it('lets CONCLAVE_WEBHOOK_ALLOW open the built-in list, but never what CONCLAVE_WEBHOOK_DENY lists', () => {
    const policy = new OutboundPolicy(rules('169.254.77.0/24,10.0.0.0/8', '10.1.0.0/16'));
    expect(allowed(policy, '169.254.77.2')).toBe(true);
    expect(allowed(policy, '169.254.169.254')).toBe(false); // outside the allowed /24
    expect(allowed(policy, '10.2.3.4')).toBe(true);
    expect(allowed(policy, '10.1.2.3')).toBe(false); // deny wins over allow for the same address
    const both = new OutboundPolicy(rules('169.254.0.0/16', '169.254.169.254'));
    expect(allowed(both, '169.254.1.1')).toBe(true);
    expect(allowed(both, '169.254.169.254')).toBe(false);
  });

  it('refuses the names of metadata services, whatever their case or trailing dot', () => {
    for (const name of ['metadata.google.internal', 'METADATA.Google.Internal.', 'metadata.goog', 'metadata', 'metadata.azure.com', 'instance-data', 'instance-data.ec2.internal']) {
      expect(builtIn.checkHostname(name), name).toEqual({ allowed: false, reason: `${name} is the name of a cloud metadata service` });
    }
    for (const name of ['localhost', 'example.com', 'metadata.example.com', 'google.internal']) expect(builtIn.checkHostname(name).allowed, name).toBe(true);
  });

  it('publishes its built-in list', () => {
    expect(BUILT_IN_DENIED.map((n) => n.text)).toEqual(expect.arrayContaining(['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', 'fd20:ce::254/128']));
  });
});
