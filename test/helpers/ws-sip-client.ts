/**
 * A WebRTC SIP client as Conclave sees one on the wire (RFC 7118), without a browser: a `ws`
 * connection with the `sip` subprotocol, raw SIP text one message per frame, a Via of
 * `SIP/2.0/WS <random>.invalid` and a Contact `<sip:<user>@<random>.invalid;transport=ws>` — the
 * names JsSIP and SIP.js write, which nobody can reach (§5.4) — and RTP on a real UDP port of
 * 127.0.0.1 (plain PCMU: this client tests signalling, not WebRTC media).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import WebSocket from 'ws';
import { buildAuthorization, parseDigestChallenge } from '../../src/sip/digest.js';
import { createRequest, cseq, responseTo, topVia, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { parseSipMessage } from '../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../src/sip/serialize-message.js';
import { until } from './until.js';

const token = (): string => randomBytes(6).toString('hex');

export class WsSipClient {
  /** Every message received, in order. */
  readonly received: SipMessage[] = [];
  /** The client's own name for itself (`<random>.invalid`). */
  readonly alias = `${token()}.invalid`;
  readonly contact: string;
  private seq = 1;
  private readonly callId = `${token()}@${this.alias}`;

  private constructor(
    private readonly socket: WebSocket,
    private readonly rtp: dgram.Socket,
    readonly user: string,
  ) {
    this.contact = `<sip:${user}@${this.alias};transport=ws>`;
    socket.on('message', (data: Buffer) => {
      const parsed = parseSipMessage(data, { framing: 'datagram' });
      if (parsed.ok) this.received.push(parsed.message);
    });
  }

  /** Connects to `url` asking for `protocols` (RFC 7118 §4.1: `sip`). */
  static async connect(url: string, user: string, protocols: string[] = ['sip']): Promise<WsSipClient> {
    const socket = new WebSocket(url, protocols);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const rtp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', () => resolve()));
    return new WsSipClient(socket, rtp, user);
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Tells `listener` the close code when the server closes the connection. */
  onClose(listener: (code: number) => void): void {
    this.socket.once('close', (code) => listener(code));
  }

  send(message: SipMessage): void {
    this.socket.send(serializeSipMessage(message).toString('utf8'));
  }

  /** Waits for the first message received since `from` (an index into `received`) that `match` accepts. */
  async next<T extends SipMessage>(match: (m: SipMessage) => m is T, from = 0, timeoutMs = 10_000, what = 'a SIP message'): Promise<T> {
    return until(() => this.received.slice(from).find(match), timeoutMs, what);
  }

  /** A request of ours: Via `SIP/2.0/WS <alias>` (no rport: the registrar stamps received anyway), fresh branch. */
  request(method: string, uri: string, headers: Array<readonly [string, string]>, body = ''): SipRequest {
    const request = createRequest(method, uri, [
      ['Via', `SIP/2.0/WS ${this.alias};branch=z9hG4bK${token()}`],
      ['Max-Forwards', '70'],
      ...headers,
      ['CSeq', `${this.seq++} ${method}`],
    ], body);
    return request;
  }

  /** Sends `request` and resolves with its final response (provisional ones skipped). */
  async transact(request: SipRequest): Promise<SipResponse> {
    const from = this.received.length;
    const branch = topVia(request)?.branch;
    this.send(request);
    return this.next((m): m is SipResponse => m.kind === 'response' && m.status >= 200 && topVia(m)?.branch === branch, from, 10_000, `the answer to ${request.method}`);
  }

  /** REGISTERs `sip:<user>@<domain>`, answering a 401 with `password` when given. */
  async register(domain: string, password?: string, expires = 600): Promise<SipResponse> {
    const aor = `sip:${this.user}@${domain}`;
    const build = (): SipRequest =>
      this.request('REGISTER', `sip:${domain}`, [
        ['From', `<${aor}>;tag=${token()}`],
        ['To', `<${aor}>`],
        ['Call-ID', this.callId],
        ['Contact', `${this.contact};expires=${expires}`],
      ]);
    const first = await this.transact(build());
    const challenge = first.status === 401 && password !== undefined ? parseDigestChallenge(first.headers.get('WWW-Authenticate') ?? '') : undefined;
    if (!challenge || password === undefined) return first;
    const retry = build();
    retry.headers.append('Authorization', buildAuthorization(challenge, { username: this.user, password, method: 'REGISTER', uri: retry.uri }));
    return this.transact(retry);
  }

  /** An SDP offer or answer of plain PCMU on our RTP port. */
  sdp(): string {
    const { port } = this.rtp.address();
    return ['v=0', `o=- ${Date.now()} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
  }

  /** Answers `request` with `status` (a 200 to an INVITE carries our Contact and `sdp`, by default plain PCMU). */
  answer(request: SipRequest, status: number, toTag = token(), sdp = this.sdp()): SipResponse {
    const response = responseTo(request, status, status === 100 ? undefined : toTag);
    if (status === 200 && request.method === 'INVITE') {
      response.headers.append('Contact', this.contact);
      response.headers.append('Content-Type', 'application/sdp');
      response.body = Buffer.from(sdp);
    }
    this.send(response);
    return response;
  }

  /** The requests of `method` received so far. */
  requests(method: string): SipRequest[] {
    return this.received.filter((m): m is SipRequest => m.kind === 'request' && m.method === method);
  }

  /** The CSeq method of a response. */
  static methodOf(response: SipResponse): string | undefined {
    return cseq(response)?.method;
  }

  /** Closes the connection and the RTP socket; idempotent. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
      this.socket.close();
      await closed;
    }
    await new Promise<void>((resolve) => {
      try {
        this.rtp.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
