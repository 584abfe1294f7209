/**
 * The outbound policy: which network addresses Conclave may connect to when it requests a URL an
 * account gave it — TwiML webhooks and their fallbacks, call and conference status callbacks,
 * the media of `<Play>`, hold, wait and announcements, a simulated endpoint's `play=`.
 *
 * Why: those URLs are chosen by whoever holds an account's credentials, and the requests leave
 * from the server Conclave runs on. Without a rule they reach what only that server should
 * reach — above all the cloud metadata services, which hand out the machine's credentials on a
 * link-local address (169.254.169.254 on AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack), and
 * services listening on loopback or the private network (OWASP, "Server Side Request Forgery
 * Prevention Cheat Sheet"). outbound-agent.ts applies this policy to the address each connection
 * is actually made to, after DNS, so a name cannot be made to resolve around it.
 *
 * The rules, for one address, in order:
 *   1. in the operator's deny list (CONCLAVE_WEBHOOK_DENY): refused — deny wins over allow;
 *   2. in the operator's allow list (CONCLAVE_WEBHOOK_ALLOW): allowed;
 *   3. in the built-in list below (link-local, metadata services, "this host"): refused;
 *   4. anything else, loopback and private networks included: allowed, so that an application
 *      on the same host or network keeps working out of the box.
 * The host names of metadata services are refused by name too, whatever they resolve to.
 *
 * Why hand-written here: node:net's BlockList does the matching (IPv4 and IPv6, an IPv4-mapped
 * IPv6 address against IPv4 networks and back); what is left is reading the operator's lists
 * with an error that names the bad entry, and the order of the rules, which no library states.
 * An IPv6 network also covers the IPv4 addresses mapped into it (`::/0` is everything).
 */
import { BlockList, isIP } from 'node:net';

export type AddressFamily = 'ipv4' | 'ipv6';

/** One network of a list, e.g. `10.0.0.0/8`; a bare address is a network of one. */
export interface Network {
  readonly address: string;
  readonly prefix: number;
  readonly family: AddressFamily;
  /** As written, for messages. */
  readonly text: string;
}

export interface OutboundRules {
  /** CONCLAVE_WEBHOOK_ALLOW: exceptions to the built-in list. */
  readonly allow: readonly Network[];
  /** CONCLAVE_WEBHOOK_DENY: refused whatever the other lists say. */
  readonly deny: readonly Network[];
}

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** A list entry that is not a network; the message names it. */
export class NetworkListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkListError';
  }
}

/** What is refused unless CONCLAVE_WEBHOOK_ALLOW lets it through, and why. */
const BUILT_IN: readonly (readonly [string, string])[] = [
  // RFC 3927. The metadata services of AWS, GCP, Azure, Oracle, DigitalOcean and OpenStack
  // (169.254.169.254), AWS ECS task metadata (169.254.170.2), Scaleway (169.254.42.42),
  // Tencent Cloud (169.254.0.23).
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'IPv6 link-local'], // RFC 4291 §2.5.6
  ['64:ff9b::a9fe:0/112', 'link-local through NAT64'], // RFC 6052 well-known prefix
  ['2002:a9fe::/32', 'link-local in 6to4'], // RFC 3056
  ['fd00:ec2::254/128', 'AWS instance metadata (IPv6)'],
  ['fd00:ec2::23/128', 'AWS EKS Pod Identity (IPv6)'],
  ['fd20:ce::254/128', 'GCP metadata (IPv6)'],
  ['fd00:42::42/128', 'Scaleway metadata (IPv6)'],
  ['100.100.100.200/32', 'Alibaba Cloud metadata'],
  ['168.63.129.16/32', 'Azure WireServer'],
  ['192.0.0.192/32', 'Oracle Cloud Classic metadata'],
  // RFC 1122 §3.2.1.3 "this host": Linux connects 0.0.0.0 to the local host, around a loopback deny.
  ['0.0.0.0/8', 'this host'],
  ['::/128', 'unspecified (this host)'],
];

/** Names of metadata services, refused before they are resolved (lower case, no trailing dot). */
const METADATA_HOSTNAMES = new Set([
  'metadata', // GCP's short name
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'instance-data', // AWS
  'instance-data.ec2.internal',
]);

/**
 * Parses a comma-separated list of networks (`10.0.0.0/8, fc00::/7, 192.0.2.7`). An empty list
 * is empty. Throws NetworkListError naming the first entry that is not a network.
 */
export function parseNetworks(list: string): Network[] {
  const networks: Network[] = [];
  for (const raw of list.split(',')) {
    const text = raw.trim();
    if (text === '') continue;
    const slash = text.indexOf('/');
    const address = slash === -1 ? text : text.slice(0, slash);
    const version = isIP(address);
    if (version === 0 || address.includes('%')) throw new NetworkListError(`${text} is not an IPv4 or IPv6 network`);
    const family: AddressFamily = version === 4 ? 'ipv4' : 'ipv6';
    const bits = version === 4 ? 32 : 128;
    const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      throw new NetworkListError(`${text} has no valid prefix length (0 to ${bits} for ${version === 4 ? 'IPv4' : 'IPv6'})`);
    }
    networks.push({ address, prefix: Number(prefixText), family, text });
  }
  return networks;
}

/** The built-in list, as networks (for the README and tests). */
export const BUILT_IN_DENIED: readonly Network[] = BUILT_IN.map(([text]) => parseNetworks(text)[0]!);

interface Matcher {
  readonly list: BlockList;
  /** The networks in it, for saying which one matched. */
  readonly networks: readonly (readonly [Network, string])[];
}

function matcher(entries: readonly (readonly [Network, string])[]): Matcher {
  const list = new BlockList();
  for (const [network] of entries) list.addSubnet(network.address, network.prefix, network.family);
  return { list, networks: entries };
}

/** The address without an IPv6 zone (`fe80::1%eth0`), with its family; undefined when not an IP. */
function plainAddress(address: string): { address: string; family: AddressFamily } | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const unzoned = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
  const version = isIP(unzoned);
  if (version === 0) return undefined;
  return { address: unzoned, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export class OutboundPolicy {
  private readonly allow: Matcher;
  private readonly deny: Matcher;
  private readonly builtIn: Matcher;

  constructor(rules: OutboundRules = { allow: [], deny: [] }) {
    this.allow = matcher(rules.allow.map((n) => [n, 'CONCLAVE_WEBHOOK_ALLOW'] as const));
    this.deny = matcher(rules.deny.map((n) => [n, 'CONCLAVE_WEBHOOK_DENY'] as const));
    this.builtIn = matcher(BUILT_IN.map(([, why], i) => [BUILT_IN_DENIED[i]!, `the built-in deny list (${why})`] as const));
  }

  /** Whether a connection to `address` (an IP address, as connected) is allowed. */
  checkAddress(address: string): Verdict {
    const ip = plainAddress(address);
    if (ip === undefined) return { allowed: false, reason: `${address} is not an IP address` };
    const denied = this.deny.list.check(ip.address, ip.family) ? this.deny : undefined;
    if (denied === undefined && this.allow.list.check(ip.address, ip.family)) return { allowed: true };
    const refusing = denied ?? (this.builtIn.list.check(ip.address, ip.family) ? this.builtIn : undefined);
    if (refusing === undefined) return { allowed: true };
    return { allowed: false, reason: `${ip.address} is in ${describeMatch(refusing, ip)}` };
  }

  /** Whether a host name may be resolved at all: the names of metadata services may not. */
  checkHostname(hostname: string): Verdict {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (METADATA_HOSTNAMES.has(name)) return { allowed: false, reason: `${hostname} is the name of a cloud metadata service` };
    return { allowed: true };
  }
}

/** "CONCLAVE_WEBHOOK_DENY (127.0.0.0/8)": the first network of the matcher that holds the address. */
function describeMatch(m: Matcher, ip: { address: string; family: AddressFamily }): string {
  for (const [network, source] of m.networks) {
    const one = new BlockList();
    one.addSubnet(network.address, network.prefix, network.family);
    if (one.check(ip.address, ip.family)) return `${source}: ${network.text}`;
  }
  return 'a denied network';
}
