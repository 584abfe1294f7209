/**
 * A carrier's registrar and call delivery for tests, on a UDP port of 127.0.0.1, written from
 * RFC 3261 rather than with Conclave's UA: it challenges a REGISTER without credentials (401
 * with a fresh nonce, qop="auth"), checks the credentials by computing the digest itself with
 * node:crypto (RFC 2617 §3.2.2, RFC 8760 for SHA-256; the digest-uri must be the Request-URI
 * and the nonce count must grow), answers 403 to wrong ones, 423 with Min-Expires to a too-short
 * expiry, and 200 granting `grant` seconds to our Contact. It keeps every REGISTER with when it
 * came and what it was answered.
 *
 * It then delivers a call as a carrier does (`call`): an INVITE to the registered Contact, the
 * dialled number in To, ACKing the 2xx and hanging up with BYE.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { contacts, responseTo, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../src/sip/serialize-message.js';
import { until } from './until.js';

export interface CarrierRegistrarOptions {
  username: string;
  password: string;
  realm?: string;
  algorithm?: 'MD5' | 'SHA-256';
  /** Seconds granted in a 200 (sent in the Contact's `expires` and in Expires). */
  grant: number;
  /** Asking for less (and not 0) gets 423 Interval Too Brief with this Min-Expires. */
  minExpires?: number;
  /** Answer every REGISTER with this status instead (503: a server that is down for a while), and this Retry-After. */
  refuseWith?: number;
  retryAfter?: number;
}

export interface ReceivedRegister {
  request: SipRequest;
  /** performance.now() on arrival. */
  at: number;
  /** The expiry it asked for (Expires, or its Contact's `expires`). */
  expires: number;
  /** The status it was answered with (undefined: not answered, `answering` was off). */
  status: number | undefined;
}

/** RFC 2617 §3.2.2 request-digest, as the carrier computes it. */
function expectedDigest(algorithm: 'MD5' | 'SHA-256', p: Record<string, string>, password: string, method: string): string {
  const h = (text: string): string => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(text).digest('hex');
  const a1 = h([p.username, p.realm, password].join(':'));
  const a2 = h([method, p.uri].join(':'));
  return p.qop === 'auth' ? h([a1, p.nonce, p.nc, p.cnonce, 'auth', a2].join(':')) : h([a1, p.nonce, a2].join(':'));
}

/** The name=value pairs of a Digest header, unquoted. */
function digestFields(value: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of value.replace(/^\s*Digest\s+/i, '').matchAll(/([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))/g)) fields[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return fields;
}

export class CarrierRegistrar {
  readonly registers: ReceivedRegister[] = [];
  /** Turn off to let REGISTERs go unanswered (a carrier gone silent). */
  answering = true;
  /** The password it checks (change it to let a registration that failed succeed). */
  password: string;
  private readonly nonces = new Map<string, number>();
  private readonly responses: SipResponse[] = [];
  private readonly realm: string;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: CarrierRegistrarOptions,
  ) {
    this.password = options.password;
    this.realm = options.realm ?? 'carrier.test';
    socket.on('message', (data, from) => {
      const parsed = parseSipMessage(data);
      if (!parsed.ok) return;
      const message = parsed.message;
      if (message.kind === 'response') this.responses.push(message);
      else if (message.method === 'REGISTER') this.register(message, from);
    });
  }

  static async start(options: CarrierRegistrarOptions): Promise<CarrierRegistrar> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new CarrierRegistrar(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** The REGISTERs answered with `status`. */
  answered(status: number): ReceivedRegister[] {
    return this.registers.filter((r) => r.status === status);
  }

  /** The Contact URI of the last REGISTER that was granted time. */
  get contact(): string | undefined {
    const granted = this.answered(200).filter((r) => r.expires > 0).at(-1);
    return granted ? contacts(granted.request)[0]?.uri : undefined;
  }

  private register(request: SipRequest, from: dgram.RemoteInfo): void {
    const header = request.headers.get('Expires');
    const contactExpires = contacts(request)[0]?.params.get('expires');
    const expires = Number(typeof contactExpires === 'string' ? contactExpires : (header ?? 3600));
    const received: ReceivedRegister = { request, at: performance.now(), expires, status: undefined };
    this.registers.push(received);
    if (!this.answering) return;
    const reply = (status: number, headers: Array<[string, string]> = []): void => {
      received.status = status;
      const response = responseTo(request, status, randomBytes(4).toString('hex'));
      for (const [name, value] of headers) response.headers.append(name, value);
      this.socket.send(serializeSipMessage(response), from.port, from.address);
    };
    if (this.options.refuseWith !== undefined) {
      reply(this.options.refuseWith, this.options.retryAfter === undefined ? [] : [['Retry-After', String(this.options.retryAfter)]]);
      return;
    }
    const credentials = request.headers.get('Authorization');
    const fields = credentials === undefined ? undefined : digestFields(credentials);
    const lastNc = fields ? this.nonces.get(fields.nonce ?? '') : undefined;
    if (!fields || lastNc === undefined) {
      const nonce = randomBytes(12).toString('hex');
      this.nonces.set(nonce, 0);
      reply(401, [['WWW-Authenticate', `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${this.options.algorithm ?? 'MD5'}, qop="auth"`]]);
      return;
    }
    const nc = parseInt(fields.nc ?? '', 16);
    const algorithm = this.options.algorithm ?? 'MD5';
    const right =
      fields.username === this.options.username &&
      fields.realm === this.realm &&
      fields.uri === request.uri &&
      (fields.algorithm ?? 'MD5') === algorithm &&
      nc > lastNc &&
      fields.response === expectedDigest(algorithm, fields, this.password, 'REGISTER');
    if (!right) {
      reply(403);
      return;
    }
    this.nonces.set(fields.nonce!, nc);
    if (expires !== 0 && this.options.minExpires !== undefined && expires < this.options.minExpires) {
      reply(423, [['Min-Expires', String(this.options.minExpires)]]);
      return;
    }
    const contact = request.headers.get('Contact')!.replace(/;expires=\d+/, '');
    reply(200, expires === 0 ? [] : [['Contact', `${contact};expires=${this.options.grant}`], ['Expires', String(this.options.grant)]]);
  }

  /**
   * A call as the carrier delivers it: an INVITE to `contact` (the registered one) with `number`
   * in To; resolves with the final status, after ACKing a 2xx.
   */
  async call(contact: string, number: string, target: { host: string; port: number }): Promise<{ status: number; hangup: () => Promise<number> }> {
    const callId = `${randomBytes(8).toString('hex')}@carrier.test`;
    const headers = (method: string, seq: number, to: string): string[] => [
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:+15005550006@carrier.test>;tag=carrier1`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${seq} ${method}`,
    ];
    const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    const send = (lines: string[], body = ''): void => {
      const text = [...lines, `Contact: <sip:carrier@127.0.0.1:${this.port}>`, ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
      this.socket.send(Buffer.from(text), target.port, target.host);
    };
    const final = (method: string): Promise<SipResponse> =>
      until(() => this.responses.find((r) => r.headers.get('Call-ID') === callId && r.status >= 200 && r.headers.get('CSeq')?.endsWith(method)), 10_000, () => `a final response to the carrier's ${method}`);
    send([`INVITE ${contact} SIP/2.0`, ...headers('INVITE', 1, `<sip:${number}@carrier.test>`)], sdp);
    const answer = await final('INVITE');
    const to = answer.headers.get('To')!;
    if (answer.status >= 300) return { status: answer.status, hangup: async () => answer.status };
    send([`ACK ${contact} SIP/2.0`, ...headers('ACK', 1, to)]);
    return {
      status: answer.status,
      hangup: async () => {
        send([`BYE ${contact} SIP/2.0`, ...headers('BYE', 2, to)]);
        return (await final('BYE')).status;
      },
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
