/**
 * A list of IPv4/IPv6 addresses and CIDR blocks (`192.0.2.10`, `198.51.100.0/24`), e.g. the
 * trusted SIP sources that no per-source budget applies to. Matching is Node's own
 * `net.BlockList`, which knows prefixes and IPv4-mapped IPv6 addresses.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface AddressBlock {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `address` or `address/prefix`; undefined when it is neither. */
export function parseAddressBlock(entry: string): AddressBlock | undefined {
  const [address = '', prefixText, ...rest] = entry.trim().split('/');
  if (rest.length > 0) return undefined;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  return { address, prefix: Number(prefixText), family };
}

export class AddressList {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** Entries that do not parse are ignored (configuration checks them first). */
  constructor(entries: readonly string[] = []) {
    let count = 0;
    for (const entry of entries) {
      const block = parseAddressBlock(entry);
      if (!block) continue;
      this.list.addSubnet(block.address, block.prefix, block.family);
      count++;
    }
    this.empty = count === 0;
  }

  has(host: string): boolean {
    if (this.empty) return false;
    const plain = host.replace(/^\[(.*)\]$/, '$1');
    if (isIPv4(plain)) return this.list.check(plain, 'ipv4');
    if (isIPv6(plain)) return this.list.check(plain, 'ipv6');
    return false;
  }
}
