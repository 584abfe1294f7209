/**
 * One binding a UAC keeps at a registrar (RFC 3261 §10.2): the REGISTER requests of an
 * address-of-record and one Contact, with the same Call-ID and From tag and an increasing CSeq
 * across refreshes (§10.2.4), answered to digest challenges (§22.2: 401 WWW-Authenticate or 407
 * Proxy-Authenticate; MD5 or SHA-256, qop=auth with nc and cnonce), and sent to each server DNS
 * gave in turn when one times out, cannot be reached or answers 503 (RFC 3263 §4.3).
 *
 * A challenge is kept and answered again, with the next nonce count, in the next REGISTER
 * (RFC 2617 §3.2.2: the nonce may be reused), so a refresh usually needs one round trip; when the
 * registrar no longer takes it (401 again, stale or a new nonce) the new challenge is answered.
 *
 * What to do with the outcome — the granted expiry, when to refresh, how long to back off — is
 * the caller's (e.g. endpoints/sip/sip-trunk-registration.ts): this is one exchange at a time.
 */
import { buildAuthorization, parseDigestChallenge, type DigestChallenge } from '../digest.js';
import { initialSeq, newTag } from '../dialog/dialog.js';
import { contacts, createRequest, type SipRequest, type SipResponse } from '../message.js';
import type { SipUri } from '../sip-uri.js';
import type { SipTransactionLayer } from '../transaction/transaction-layer.js';
import type { SipDestination } from '../transaction/transport.js';
import { newCallId } from './uac-requests.js';

export interface ClientRegistrationOptions {
  /** The Request-URI: the registrar's domain, no user part (`sip:sip.carrier.example`, §10.2). */
  registrar: string;
  /** To and From: the address-of-record (`sip:alice@sip.carrier.example`). */
  aor: string;
  /** The Contact URI to bind (`sip:alice@203.0.113.7:5060`). */
  contact: string;
  auth?: { username: string; password: string };
}

/** What the UA gives a registration: its transaction layer, Via, host and User-Agent. */
export interface RegistrationContext {
  layer: SipTransactionLayer;
  via(): string;
  host: string;
  userAgent: string;
}

/** How one REGISTER ended: the final response, or no response at all from any server. */
export type RegisterOutcome =
  | { kind: 'response'; response: SipResponse; target: SipDestination; request: SipRequest }
  | { kind: 'timeout' | 'unreachable'; target: SipDestination | undefined };

/** At most this many answered challenges per REGISTER: a registrar that keeps challenging refuses us. */
const MAX_CHALLENGES = 2;

export class ClientRegistration {
  readonly callId: string;
  private readonly fromTag = newTag();
  private seq = initialSeq();
  /** The challenge last answered, and the nonce count used with it (§22.4, RFC 2617 §3.2.2). */
  private challenge: { value: DigestChallenge; proxy: boolean; nc: number } | undefined;

  constructor(
    private readonly context: RegistrationContext,
    readonly options: ClientRegistrationOptions,
  ) {
    this.callId = newCallId(context.host);
  }

  /**
   * Sends a REGISTER asking for `expires` seconds (0 removes the binding, §10.2.2) to the first
   * target, then the next ones after a timeout, a transport error or a 503.
   */
  async register(expires: number, targets: readonly SipDestination[]): Promise<RegisterOutcome> {
    let outcome: RegisterOutcome = { kind: 'unreachable', target: undefined };
    for (const target of targets) {
      outcome = await this.exchange(expires, target);
      if (outcome.kind === 'response' && outcome.response.status !== 503) return outcome;
    }
    return outcome;
  }

  /** The expiry the registrar granted our Contact in a 2xx (§10.2.4): its `expires`, else Expires; undefined when neither. */
  grantedExpires(response: SipResponse, request: SipRequest): number | undefined {
    const sent = contacts(request)[0]?.sipUri;
    const same = (uri: SipUri | undefined): boolean =>
      sent !== undefined && uri !== undefined && uri.user === sent.user && uri.host.toLowerCase() === sent.host.toLowerCase() && (uri.port ?? 5060) === (sent.port ?? 5060);
    const ours = contacts(response).find((c) => same(c.sipUri));
    const value = ours?.params.get('expires') ?? response.headers.get('Expires');
    return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
  }

  /** One REGISTER to one server, answering up to MAX_CHALLENGES challenges. */
  private async exchange(expires: number, target: SipDestination): Promise<RegisterOutcome> {
    const answered = new Set<string>();
    for (;;) {
      const request = this.build(expires);
      const result = await this.send(request, target);
      if (result === 'timeout' || result === 'unreachable') return { kind: result, target };
      if ((result.status !== 401 && result.status !== 407) || !this.options.auth || answered.size >= MAX_CHALLENGES) {
        return { kind: 'response', response: result, target, request };
      }
      const proxy = result.status === 407;
      const challenge = result.headers.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate').map(parseDigestChallenge).find((c) => c !== undefined);
      // The same nonce challenged again (and not as stale): the credentials themselves are refused.
      if (!challenge || (answered.has(challenge.nonce) && !challenge.stale)) return { kind: 'response', response: result, target, request };
      answered.add(challenge.nonce);
      this.challenge = { value: challenge, proxy, nc: 0 };
    }
  }

  /** §10.2: the REGISTER, with credentials for the kept challenge (next nonce count). */
  private build(expires: number): SipRequest {
    const { registrar, aor, contact, auth } = this.options;
    this.seq += 1;
    const request = createRequest('REGISTER', registrar);
    request.headers.append('Via', this.context.via());
    request.headers.append('Max-Forwards', '70');
    request.headers.append('From', `<${aor}>;tag=${this.fromTag}`);
    request.headers.append('To', `<${aor}>`);
    request.headers.append('Call-ID', this.callId);
    request.headers.append('CSeq', `${this.seq} REGISTER`);
    request.headers.append('Contact', `<${contact}>;expires=${expires}`);
    request.headers.append('Expires', String(expires));
    request.headers.append('User-Agent', this.context.userAgent);
    if (auth && this.challenge) {
      this.challenge.nc += 1;
      const value = buildAuthorization(this.challenge.value, { ...auth, method: 'REGISTER', uri: registrar, nc: this.challenge.nc });
      request.headers.append(this.challenge.proxy ? 'Proxy-Authorization' : 'Authorization', value);
    }
    return request;
  }

  /** One non-INVITE client transaction (§17.1.2): its final response, or why there was none. */
  private send(request: SipRequest, target: SipDestination): Promise<SipResponse | 'timeout' | 'unreachable'> {
    return new Promise((resolve) => {
      let tx: ReturnType<SipTransactionLayer['sendRequest']>;
      try {
        tx = this.context.layer.sendRequest(request, target, (response) => {
          if (response.status >= 200) resolve(response);
        });
      } catch {
        resolve('unreachable'); // the layer is closed
        return;
      }
      if (tx.closed) {
        resolve('unreachable'); // the send failed at once
        return;
      }
      tx.onTerminated((reason) => {
        if (reason === 'timeout') resolve('timeout');
        else if (reason !== 'normal') resolve('unreachable');
      });
    });
  }
}
