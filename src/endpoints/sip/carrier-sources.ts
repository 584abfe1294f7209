/**
 * Where calls to the account's numbers may come from (issue 14 §2): the networks that carry
 * phone calls to them — CONCLAVE_SIP_CARRIER_NETWORKS, loopback and private networks unless
 * set — and the addresses of the carrier trunk (CONCLAVE_SIP_TRUNK). A number's INVITE from
 * anywhere else is refused 403 before any look-up or webhook: on the internet, a number that
 * answers anyone is free calls for strangers, and toll fraud wherever its TwiML dials out.
 *
 * The trunk's host, when it is an address, is that address. When it is a name, it is found as
 * a request to the trunk would find it (RFC 3263 through SipResolver: NAPTR → SRV → A, or the
 * name's A records), at start and again every REFRESH_MS; a refresh that fails keeps the
 * addresses found before (a DNS outage must not cut the trunk off) and is tried again after
 * RETRY_MS. A carrier that calls from other addresses than its servers' lists them in the
 * carrier networks.
 */
import { isIP } from 'node:net';
import type { SipResolver } from '../../sip/dns/sip-resolver.js';
import { AddressList } from '../../sip/limits/address-list.js';
import { parseSipUri } from '../../sip/sip-uri.js';

export interface CarrierSourcesOptions {
  /** Addresses and CIDR blocks whose sources may call numbers. */
  networks: readonly string[];
  /** The carrier trunk's SIP URI; absent: none. */
  trunkUri?: string;
  resolver: SipResolver;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How often a trunk name is looked up again (default 5 min), and after a failed look-up (default 30 s). */
  refreshMs?: number;
  retryMs?: number;
}

const REFRESH_MS = 5 * 60_000;
const RETRY_MS = 30_000;

export class CarrierSources {
  private readonly networks: AddressList;
  private trunk: ReadonlySet<string> = new Set();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private isClosed = false;

  private constructor(private readonly options: CarrierSourcesOptions) {
    this.networks = new AddressList(options.networks);
  }

  /** The carrier sources, with the trunk's addresses looked up once (a failure leaves none until a retry finds them). */
  static async open(options: CarrierSourcesOptions): Promise<CarrierSources> {
    const sources = new CarrierSources(options);
    // Legitimate (a deployment of SIP Domains only), but worth a line: no number can be called.
    if (sources.networks.empty && options.trunkUri === undefined) options.logger.warn({}, 'SIP: no carrier network and no trunk (CONCLAVE_SIP_CARRIER_NETWORKS=none, no CONCLAVE_SIP_TRUNK): every call to a number is refused (403)');
    await sources.refresh();
    return sources;
  }

  /** Whether `host` (a source address) may call numbers. */
  has(host: string): boolean {
    return this.networks.has(host) || this.trunk.has(host.replace(/^\[(.*)\]$/, '$1').toLowerCase());
  }

  /** The trunk's addresses as last found. */
  get trunkAddresses(): readonly string[] {
    return [...this.trunk];
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops the refreshes; idempotent. */
  close(): void {
    this.isClosed = true;
    clearTimeout(this.timer);
  }

  private async refresh(): Promise<void> {
    const uri = this.options.trunkUri === undefined ? undefined : parseSipUri(this.options.trunkUri);
    if (!uri) return;
    const host = uri.host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    // An address needs no look-up and never changes.
    if (isIP(host) !== 0) {
      this.trunk = new Set([host]);
      return;
    }
    let found: string[] = [];
    let error: unknown;
    try {
      found = (await this.options.resolver.resolve(uri)).map((target) => target.host);
    } catch (caught) {
      error = caught;
    }
    if (this.isClosed) return;
    if (found.length > 0) {
      const changed = found.length !== this.trunk.size || found.some((address) => !this.trunk.has(address));
      this.trunk = new Set(found);
      this.failing = false;
      if (changed) this.options.logger.info({ trunk: this.options.trunkUri, addresses: [...this.trunk] }, `SIP: calls to numbers are taken from the trunk at ${[...this.trunk].join(', ')}`);
    } else if (!this.failing) {
      this.failing = true;
      const kept = this.trunk.size > 0 ? `still taking calls from ${[...this.trunk].join(', ')}` : 'calls from it are refused until it is found';
      this.options.logger.warn({ trunk: this.options.trunkUri, err: error }, `SIP: cannot find the addresses of the trunk ${host} in DNS (${errorText(error)}); ${kept}; trying again`);
    }
    this.timer = setTimeout(() => void this.refresh(), this.failing ? (this.options.retryMs ?? RETRY_MS) : (this.options.refreshMs ?? REFRESH_MS));
    this.timer.unref();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : 'no addresses';
}
