/**
 * A SIP dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE sets up, identified by
 * Call-ID, local tag and remote tag (§12). It carries the local and remote sequence numbers,
 * the remote target (the peer's Contact, §12.1.1/§12.1.2), the route set (Record-Route, in
 * order for the UAS and reversed for the UAC), and the early/confirmed/terminated state.
 *
 * It builds in-dialog requests (§12.2.1.1), with loose and strict routing (§16.12.1.2
 * Request-URI and Route rules), checks the CSeq order of requests it receives (§12.2.2: lower
 * than the remote sequence number → 500), and refreshes the remote target on target-refresh
 * requests and responses (§12.2.1.2, §12.2.2).
 */
import { randomBytes } from 'node:crypto';
import { parseNameAddr } from '../header-values.js';
import { callId, contacts, createRequest, cseq, fromHeader, toHeader, type SipRequest, type SipResponse } from '../message.js';
import { parseSipUri } from '../sip-uri.js';
import type { SipDestination } from '../transaction/transport.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

/** The id of the dialog a received request belongs to, from the UAS's view (§12.2.2); undefined without a To tag. */
export function dialogIdOfRequest(request: SipRequest): DialogId | undefined {
  const id = callId(request);
  const localTag = toHeader(request)?.tag;
  const remoteTag = fromHeader(request)?.tag;
  if (id === undefined || localTag === undefined || remoteTag === undefined) return undefined;
  return { callId: id, localTag, remoteTag };
}

/** The id of the dialog a received response belongs to, from the UAC's view (§12.1.2). */
export function dialogIdOfResponse(response: SipResponse): DialogId | undefined {
  const id = callId(response);
  const localTag = fromHeader(response)?.tag;
  const remoteTag = toHeader(response)?.tag;
  if (id === undefined || localTag === undefined || remoteTag === undefined) return undefined;
  return { callId: id, localTag, remoteTag };
}

/** A tag with at least 32 bits of randomness (§19.3). */
export function newTag(): string {
  return randomBytes(6).toString('hex');
}

/** An initial local CSeq below 2**31 (§8.1.1.5), small enough to leave room for increments. */
export function initialSeq(): number {
  return 1 + (randomBytes(2).readUInt16BE(0) % 10_000);
}

export interface DialogInit {
  id: DialogId;
  state: DialogState;
  /** Our URI as the From (UAC) or To (UAS) carries it, without tag. */
  localUri: string;
  remoteUri: string;
  /** Our Contact, sent in target-refresh requests. */
  localContact: string;
  remoteTarget: string;
  /** Route values in the order they go into requests. */
  routeSet: string[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;
}

export type CSeqCheck = 'ok' | 'out-of-order';

export interface InDialogRequestOptions {
  /** The top Via value (with a fresh branch). */
  via: string;
  /** For ACK of a 2xx (§13.2.2.4): the INVITE's CSeq number instead of a new one. */
  seq?: number;
  body?: string | Buffer;
  contentType?: string;
  headers?: Array<readonly [string, string]>;
}

export class SipDialog {
  readonly id: DialogId;
  state: DialogState;
  readonly localUri: string;
  readonly remoteUri: string;
  localContact: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;

  constructor(init: DialogInit) {
    this.id = { ...init.id };
    this.state = init.state;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.localContact = init.localContact;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = [...init.routeSet];
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
  }

  get key(): string {
    return dialogKey(this.id);
  }

  /**
   * The UAS side (§12.1.1): from the request and the 1xx/2xx we send with our To tag. Route set
   * = the request's Record-Route in order; remote target = its Contact; remote seq = its CSeq.
   */
  static asUas(request: SipRequest, response: SipResponse, localContact: string): SipDialog | undefined {
    const id = dialogIdOfRequest({ ...request, headers: response.headers });
    const from = fromHeader(request);
    const to = toHeader(request);
    const remoteTarget = contacts(request)[0]?.uri;
    if (!id || !from || !to || remoteTarget === undefined) return undefined;
    return new SipDialog({
      id,
      state: response.status < 200 ? 'early' : 'confirmed',
      localUri: to.uri,
      remoteUri: from.uri,
      localContact,
      remoteTarget,
      routeSet: request.headers.getAll('Record-Route'),
      localSeq: undefined,
      remoteSeq: cseq(request)?.seq,
    });
  }

  /**
   * The UAC side (§12.1.2): from our request and a 1xx/2xx with a To tag. Route set = the
   * response's Record-Route reversed; remote target = its Contact; local seq = our CSeq.
   */
  static asUac(request: SipRequest, response: SipResponse, localContact: string): SipDialog | undefined {
    const id = dialogIdOfResponse(response);
    const from = fromHeader(request);
    const to = toHeader(request);
    const remoteTarget = contacts(response)[0]?.uri ?? request.uri;
    if (!id || !from || !to || remoteTarget === undefined) return undefined;
    return new SipDialog({
      id,
      state: response.status < 200 ? 'early' : 'confirmed',
      localUri: from.uri,
      remoteUri: to.uri,
      localContact,
      remoteTarget,
      routeSet: response.headers.getAll('Record-Route').reverse(),
      localSeq: cseq(request)?.seq,
      remoteSeq: undefined,
    });
  }

  /** A 2xx confirms an early dialog; a UAC refreshes its route set from it (§12.1.2, §13.2.2.4). */
  confirm(response?: SipResponse): void {
    if (this.state === 'terminated') return;
    if (response && this.state === 'early') {
      this.routeSet = response.headers.getAll('Record-Route').reverse();
    }
    if (response) this.refreshTarget(response);
    this.state = 'confirmed';
  }

  terminate(): void {
    this.state = 'terminated';
  }

  /** Does a received request belong here (§12.2.2)? */
  matches(request: SipRequest): boolean {
    const id = dialogIdOfRequest(request);
    return id !== undefined && dialogKey(id) === this.key;
  }

  /**
   * §12.2.2: a request whose CSeq is lower than the remote sequence number is out of order
   * (→ 500); otherwise the remote sequence number becomes the request's. ACK and CANCEL carry
   * the number of the request they refer to and are not checked.
   */
  checkRemoteCSeq(request: SipRequest): CSeqCheck {
    if (request.method === 'ACK' || request.method === 'CANCEL') return 'ok';
    const seq = cseq(request)?.seq;
    if (seq === undefined) return 'out-of-order';
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return 'out-of-order';
    this.remoteSeq = seq;
    return 'ok';
  }

  /** Target refresh (§12.2): the first Contact of a re-INVITE or its 2xx becomes the remote target. */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = contacts(message)[0]?.uri;
    if (contact !== undefined) this.remoteTarget = contact;
  }

  /** The next local CSeq number (§12.2.1.1: one more than the last, starting anywhere when empty). */
  nextSeq(): number {
    this.localSeq = this.localSeq === undefined ? initialSeq() : this.localSeq + 1;
    return this.localSeq;
  }

  /**
   * A request within the dialog (§12.2.1.1): To = remote URI and tag, From = local URI and tag,
   * Call-ID, CSeq (incremented except for ACK/CANCEL-style `seq`), Request-URI and Route per
   * the route set: loose routing (first route has `lr`) keeps Request-URI = remote target and
   * Route = route set; strict routing puts the first route in the Request-URI and appends the
   * remote target as the last Route.
   */
  createRequest(method: string, options: InDialogRequestOptions): SipRequest {
    const seq = options.seq ?? this.nextSeq();
    const { uri, routes } = this.routing();
    const request = createRequest(method, uri);
    request.headers.append('Via', options.via);
    for (const route of routes) request.headers.append('Route', route);
    request.headers.append('Max-Forwards', '70');
    request.headers.append('From', `<${this.localUri}>;tag=${this.id.localTag}`);
    request.headers.append('To', `<${this.remoteUri}>;tag=${this.id.remoteTag}`);
    request.headers.append('Call-ID', this.id.callId);
    request.headers.append('CSeq', `${seq} ${method}`);
    if (method === 'INVITE' || method === 'UPDATE') request.headers.append('Contact', this.localContact);
    for (const [name, value] of options.headers ?? []) request.headers.append(name, value);
    if (options.body !== undefined) {
      request.body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
      request.headers.append('Content-Type', options.contentType ?? 'application/sdp');
    }
    return request;
  }

  /** The URI an in-dialog request goes to first (§12.2.1.1, §8.1.2): the first Route's, or the remote target. */
  nextHopUri(): string | undefined {
    const first = this.routeSet[0];
    return first === undefined ? this.remoteTarget : parseNameAddr(first)?.uri;
  }

  /** The next hop's host and port as written (no DNS: see ua/dialog-next-hop.ts for names). */
  nextHop(): SipDestination | undefined {
    const uri = this.nextHopUri();
    return uri === undefined ? undefined : uriDestination(uri);
  }

  private routing(): { uri: string; routes: string[] } {
    const first = this.routeSet[0];
    if (first === undefined) return { uri: this.remoteTarget, routes: [] };
    const firstUri = parseNameAddr(first)?.sipUri;
    if (firstUri?.params.has('lr')) return { uri: this.remoteTarget, routes: [...this.routeSet] };
    // Strict routing (§12.2.1.1): the first route's URI, stripped of not-allowed parameters.
    const strictUri = (parseNameAddr(first)?.uri ?? this.remoteTarget).replace(/;(method|maddr|ttl|transport|lr)(=[^;?>]*)?/gi, '');
    return { uri: strictUri, routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`] };
  }
}

/**
 * host:port for a sip: URI (§19.1.2 default 5060, 5061 for sips: and for `;transport=tls`,
 * RFC 3263 §4.2). `maddr` wins over the host. No DNS (RFC 3263): hosts are used as written, so
 * they should be IP addresses.
 */
export function uriDestination(uri: string): SipDestination | undefined {
  const sip = parseSipUri(uri);
  if (!sip) return undefined;
  const maddr = sip.params.get('maddr');
  const host = typeof maddr === 'string' ? maddr : sip.host;
  const transport = sip.params.get('transport');
  const tls = sip.scheme === 'sips' || (typeof transport === 'string' && transport.toLowerCase() === 'tls');
  return { host: host.replace(/^\[(.*)\]$/, '$1'), port: sip.port ?? (tls ? 5061 : 5060) };
}
