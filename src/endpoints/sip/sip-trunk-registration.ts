/**
 * Conclave's registration with the carrier trunk (issue 14 §4, CONCLAVE_SIP_TRUNK_REGISTER=true):
 * the carrier learns where to deliver calls to our numbers from a REGISTER (RFC 3261 §10.2) of
 * `sip:<username>@<trunk host>` binding `<sip:<username>@<public address>:<port>>`.
 *
 * - The Request-URI is the trunk's host (and port and transport, when its URI names them); its
 *   servers are found as any SIP URI's are (RFC 3263, SipResolver), each tried in turn.
 * - Digest challenges are answered (client-registration.ts); one Call-ID and an increasing CSeq
 *   for the life of the process (§10.2.4).
 * - The registrar's granted expiry (our Contact's `expires`, else Expires) is refreshed at half
 *   of it; 423 Interval Too Brief is retried at once with its Min-Expires (§10.2.8).
 * - Anything else — no answer, no server in DNS, 403 for a wrong password, 5xx — is retried after
 *   30 s, doubling up to 5 min (or after the response's Retry-After when that is longer), and
 *   logged once when it starts and again only when the reason changes: a carrier that refuses
 *   us for a day writes one warn line, not 300.
 * - On close the binding is removed (Expires: 0, §10.2.2), waiting at most 2 s so a shutdown is
 *   never held up by a carrier that does not answer.
 *
 * Over TCP or TLS the REGISTER and the calls the carrier sends back use the connection the
 * transport keeps to the carrier (no RFC 5626 outbound flows). Each node registers its own
 * Contact with the same address-of-record; whether the carrier then calls one or all of them is
 * the carrier's choice.
 */
import type { SipTrunkConfig } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { SipResolver } from '../../sip/dns/sip-resolver.js';
import type { SipResponse } from '../../sip/message.js';
import { parseSipUri, type SipUri } from '../../sip/sip-uri.js';
import type { SipDestination } from '../../sip/transaction/transport.js';
import type { ClientRegistration } from '../../sip/ua/client-registration.js';
import type { SipUserAgent } from '../../sip/ua/user-agent.js';

export type TrunkRegistrationState = 'registering' | 'registered' | 'failed' | 'closed';

export interface TrunkRegistrationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TrunkRegistrationOptions {
  /** The trunk; its `auth` is the account registered. */
  trunk: SipTrunkConfig & { auth: { username: string; password: string } };
  ua: SipUserAgent;
  /** Where the carrier reaches us: the public address and the SIP (UDP/TCP) port. */
  contact: { host: string; port: number };
  resolver: Pick<SipResolver, 'resolve'>;
  logger: TrunkRegistrationLogger;
  /** The first retry after a failure and the longest (default 30 s and 5 min). */
  retry?: { firstMs: number; maxMs: number };
  /** How long close() waits for the carrier to confirm the unregistration (default 2 s). */
  unregisterTimeoutMs?: number;
}

const DEFAULT_RETRY = { firstMs: 30_000, maxMs: 300_000 };
const UNREGISTER_TIMEOUT_MS = 2_000;
/** Never refresh sooner than this after a success, whatever a registrar grants. */
const MIN_REFRESH_MS = 1_000;

export class SipTrunkRegistration {
  private stateValue: TrunkRegistrationState = 'registering';
  private readonly binding: ClientRegistration;
  private readonly trunkUri: SipUri;
  private readonly retry: { firstMs: number; maxMs: number };
  private timer: NodeJS.Timeout | undefined;
  /** The expiry we ask for: the configured one, or a registrar's Min-Expires (423). */
  private expires: number;
  private retryMs: number | undefined;
  private lastFailure: string | undefined;
  /** The server that last accepted the binding: the one to remove it from. */
  private registeredAt: SipDestination | undefined;
  private closing: Promise<void> | undefined;

  /** Starts registering at once. */
  constructor(private readonly options: TrunkRegistrationOptions) {
    const trunkUri = parseSipUri(options.trunk.uri);
    // config.ts accepts only SIP URIs for the trunk.
    if (!trunkUri) throw new ConfigError(`the trunk ${options.trunk.uri} is not a SIP URI`);
    this.trunkUri = trunkUri;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.expires = options.trunk.registerExpires;
    const { username } = options.trunk.auth;
    const { host, port } = options.contact;
    const transport = trunkUri.params.get('transport');
    const hostPort = `${trunkUri.host}${trunkUri.port === undefined ? '' : `:${trunkUri.port}`}`;
    this.binding = options.ua.registration({
      registrar: `${trunkUri.scheme}:${hostPort}${typeof transport === 'string' ? `;transport=${transport}` : ''}`,
      aor: `${trunkUri.scheme}:${username}@${trunkUri.host}`,
      contact: `sip:${username}@${host.includes(':') ? `[${host}]` : host}:${port}`,
      auth: options.trunk.auth,
    });
    this.run();
  }

  get state(): TrunkRegistrationState {
    return this.stateValue;
  }

  get closed(): boolean {
    return this.stateValue === 'closed';
  }

  /** The user part carriers put in the Request-URI of calls to our Contact. */
  get username(): string {
    return this.options.trunk.auth.username;
  }

  /** Stops refreshing and removes the binding (Expires: 0), waiting at most ~2 s; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.unregister();
    return this.closing;
  }

  private async unregister(): Promise<void> {
    const target = this.registeredAt;
    this.stateValue = 'closed';
    clearTimeout(this.timer);
    if (!target) return;
    let timeout: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.binding.register(0, [target]),
      new Promise<undefined>((resolve) => (timeout = setTimeout(() => resolve(undefined), this.options.unregisterTimeoutMs ?? UNREGISTER_TIMEOUT_MS))),
    ]);
    clearTimeout(timeout);
    const fields = { trunk: this.options.trunk.uri };
    if (outcome?.kind === 'response' && outcome.response.status < 300) {
      this.options.logger.info(fields, `SIP: unregistered from the carrier trunk ${this.options.trunk.uri}`);
    } else {
      this.options.logger.warn(fields, `SIP: the carrier trunk ${this.options.trunk.uri} did not confirm the unregistration (${describe(outcome)}); its binding lapses when it expires`);
    }
  }

  /** One registration (with its challenge) and what follows from its outcome. */
  private async attempt(): Promise<void> {
    let targets: SipDestination[];
    try {
      targets = await this.targets();
    } catch (error) {
      this.failed(`no server for ${this.trunkUri.host} in DNS (${(error as Error).message})`);
      return;
    }
    if (this.closed) return;
    const outcome = await this.binding.register(this.expires, targets);
    if (this.closed) return;
    if (outcome.kind !== 'response') {
      this.failed(describe(outcome));
      return;
    }
    const { response, request } = outcome;
    const minExpires = Number(response.headers.get('Min-Expires'));
    if (response.status === 423 && Number.isInteger(minExpires) && minExpires > this.expires) {
      this.expires = minExpires;
      return this.attempt();
    }
    const granted = response.status < 300 ? (this.binding.grantedExpires(response, request) ?? this.expires) : 0;
    if (response.status >= 300 || granted <= 0) {
      if (response.status >= 300) this.failed(refusal(response), retryAfterMs(response));
      else this.failed(`${statusLine(response)} granting no time`);
      return;
    }
    this.registered(granted, outcome.target);
  }

  private registered(granted: number, target: SipDestination): void {
    const refreshMs = Math.max(MIN_REFRESH_MS, (granted * 1000) / 2);
    if (this.stateValue !== 'registered') {
      this.options.logger.info(
        { trunk: this.options.trunk.uri, server: `${target.host}:${target.port}`, expires: granted },
        `SIP: registered with the carrier trunk ${this.options.trunk.uri} as ${this.username} for ${granted} s (refreshed every ${seconds(refreshMs)} s)`,
      );
    }
    this.stateValue = 'registered';
    this.registeredAt = target;
    this.retryMs = undefined;
    this.lastFailure = undefined;
    this.schedule(refreshMs);
  }

  /** Retry with backoff; a warn line when this failure is new (not on every retry). */
  private failed(reason: string, retryAfter = 0): void {
    if (this.closed) return;
    const backoff = this.retryMs === undefined ? this.retry.firstMs : Math.min(this.retryMs * 2, this.retry.maxMs);
    // A Retry-After longer than the backoff is waited out (RFC 3261 §20.33, §21.5.4).
    this.retryMs = Math.max(backoff, retryAfter);
    if (reason !== this.lastFailure) {
      this.options.logger.warn(
        { trunk: this.options.trunk.uri, reason },
        `SIP: registration with the carrier trunk ${this.options.trunk.uri} failed: ${reason}; retrying in ${seconds(this.retryMs)} s (then less often, up to every ${seconds(this.retry.maxMs)} s; logged again only when the reason changes)`,
      );
    }
    this.lastFailure = reason;
    this.stateValue = 'failed';
    this.schedule(this.retryMs);
  }

  private run(): void {
    this.attempt().catch((error: unknown) => this.failed((error as Error).message));
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), ms);
    this.timer.unref();
  }

  /** The trunk's servers, best first (RFC 3263); TLS ones are checked for the trunk's host name. */
  private async targets(): Promise<SipDestination[]> {
    const found = await this.options.resolver.resolve(this.trunkUri);
    return found.map((target) => (target.transport === 'tls' ? { ...target, serverName: this.trunkUri.host } : { ...target }));
  }
}

function statusLine(response: SipResponse): string {
  return `${response.status} ${response.reason}`;
}

/** A final failure response, with what to check when it refuses the credentials. */
function refusal(response: SipResponse): string {
  const credentials = response.status === 401 || response.status === 403 || response.status === 407;
  return credentials ? `${statusLine(response)} (are CONCLAVE_SIP_TRUNK_USERNAME and CONCLAVE_SIP_TRUNK_PASSWORD right?)` : statusLine(response);
}

/** Retry-After's seconds (§20.33, comment and parameters ignored) in ms; 0 when absent. */
function retryAfterMs(response: SipResponse): number {
  const seconds = /^\s*(\d{1,6})/.exec(response.headers.get('Retry-After') ?? '')?.[1];
  return seconds === undefined ? 0 : Number(seconds) * 1000;
}

function describe(outcome: Awaited<ReturnType<ClientRegistration['register']>> | undefined): string {
  if (outcome?.kind === 'response') return statusLine(outcome.response);
  return outcome?.kind === 'unreachable' ? 'the trunk cannot be reached' : 'no answer';
}

/** Milliseconds as seconds for a log line: `30`, `0.2`. */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
