/**
 * A SipPhone signing in to a registrar (RFC 3261 §10.2): REGISTERs sent through the phone's own
 * user agent (its transaction layer and UDP port, so the registrar sees the phone's real source
 * address), one Call-ID for all of them and a CSeq that grows (§10.2.4), and a 401 challenge
 * answered once with digest credentials (§22.2) when the test gives some.
 */
import { buildAuthorization, parseDigestChallenge } from '../../src/sip/digest.js';
import { newTag } from '../../src/sip/dialog/dialog.js';
import { parseNameAddr } from '../../src/sip/header-values.js';
import { createRequest, listValues, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { newBranch } from '../../src/sip/transaction/transaction-key.js';
import type { SipDestination } from '../../src/sip/transaction/transport.js';
import type { SipPhone } from './sip-phone.js';

export interface RegisterOptions {
  /** Digest credentials for the 401; without them the 401 is the answer. */
  auth?: { username: string; password: string };
  /** The Expires header; none when absent (the registrar's default). */
  expires?: number;
  /** Contact values (default the phone's own URI); `['*']` with expires 0 removes every binding. */
  contacts?: string[];
  /** More headers, as a proxy on the way would add them (`Path`, RFC 3327) or the phone (`Supported`). */
  headers?: Array<readonly [string, string]>;
}

export interface RegisterAnswer {
  status: number;
  response: SipResponse;
  /** The bindings a 200 lists: URI and seconds left. */
  bindings: Array<{ uri: string; expires: number }>;
}

export class PhoneRegistration {
  private readonly callId = `${newTag()}${newTag()}@phone`;
  private readonly fromTag = newTag();
  private seq = 1;

  /**
   * `aor` is the address of record (`sip:bob@acme.example`), the To and From; the REGISTER's
   * Request-URI is its domain, sent to `registrar` (the domain name needs no DNS).
   */
  constructor(
    private readonly phone: SipPhone,
    readonly aor: string,
    private readonly registrar: SipDestination,
  ) {}

  /** Sends a REGISTER, answers one 401 with `auth`, and resolves with the final answer. */
  async register(options: RegisterOptions = {}): Promise<RegisterAnswer> {
    const request = this.build(options);
    let response = await this.send(request);
    const challenge = response.status === 401 && options.auth ? response.headers.getAll('WWW-Authenticate').map(parseDigestChallenge).find((c) => c !== undefined) : undefined;
    if (challenge && options.auth) {
      const retry = this.build(options);
      retry.headers.append('Authorization', buildAuthorization(challenge, { ...options.auth, method: 'REGISTER', uri: retry.uri }));
      response = await this.send(retry);
    }
    const bindings = listValues(response, 'Contact').flatMap((value) => {
      const addr = parseNameAddr(value);
      const expires = addr?.params.get('expires');
      return addr && typeof expires === 'string' ? [{ uri: addr.uri, expires: Number(expires) }] : [];
    });
    return { status: response.status, response, bindings };
  }

  /** Removes every binding of the address of record (§10.2.2: `Contact: *`, `Expires: 0`). */
  unregisterAll(auth: { username: string; password: string }): Promise<RegisterAnswer> {
    return this.register({ auth, expires: 0, contacts: ['*'] });
  }

  private build(options: RegisterOptions): SipRequest {
    const domain = this.aor.replace(/^sips?:[^@]*@/, '');
    const request = createRequest('REGISTER', `sip:${domain}`);
    const { hostname: host, port } = new URL(this.phone.uri.replace(/^sip:/, 'http://'));
    request.headers.append('Via', `SIP/2.0/UDP ${host}:${port};branch=${newBranch()};rport`);
    request.headers.append('Max-Forwards', '70');
    request.headers.append('From', `<${this.aor}>;tag=${this.fromTag}`);
    request.headers.append('To', `<${this.aor}>`);
    request.headers.append('Call-ID', this.callId);
    request.headers.append('CSeq', `${this.seq++} REGISTER`);
    for (const contact of options.contacts ?? [`<${this.phone.uri}>`]) request.headers.append('Contact', contact);
    if (options.expires !== undefined) request.headers.append('Expires', String(options.expires));
    for (const [name, value] of options.headers ?? []) request.headers.append(name, value);
    return request;
  }

  private send(request: SipRequest): Promise<SipResponse> {
    return new Promise((resolve, reject) => {
      const tx = this.phone.ua.layer.sendRequest(request, this.registrar, (response) => {
        if (response.status >= 200) resolve(response);
      });
      tx.onTerminated((reason) => {
        if (reason !== 'normal') reject(new Error(`REGISTER ${reason}`));
      });
    });
  }
}
