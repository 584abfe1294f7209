/**
 * The WebRTC side of an RTP leg (issue 16): ICE-lite and DTLS-SRTP on the leg's one UDP port,
 * RTP and RTCP multiplexed there too (RFC 5761, RFC 8843's BUNDLE of one audio stream).
 *
 * - Demultiplexing is the leg's (rtp-leg.ts, RFC 7983 §7 by the first octet): 0–3 STUN and
 *   20–63 DTLS come here, 128–191 is SRTP/SRTCP for the leg itself; anything else is dropped.
 * - ICE-lite (ice-lite.ts): checks are answered; an authentic one latches the peer's address
 *   (the nominated one wins). Nothing is sent anywhere before that, DTLS included. DTLS is
 *   taken from any address that passed a check, and moves the remote there: a peer may
 *   nominate several pairs and then speak on one (werift does).
 * - DTLS (RFC 5763, RFC 5764) with werift-dtls's DtlsServer or DtlsClient over a transport glued
 *   to the leg's socket: it reads what this file hands it and sends to the latched address only.
 *   Our certificate is the process's one (dtls-certificate.ts); the server asks for the
 *   client's (CertificateRequest), since WebRTC authenticates both ends by fingerprint. The only
 *   SRTP profile offered is SRTP_AES128_CM_HMAC_SHA1_80 (1), which every browser supports and
 *   the leg's SrtpContext speaks.
 * - Once connected, the peer's certificate must match the a=fingerprint of its SDP (RFC 8122
 *   §5, RFC 5763 §5); if its SDP has not arrived yet (our offer, its answer still in flight), the
 *   check waits for it. A mismatch, a handshake error, or no verified connection 10 s after the
 *   handshake began fails the leg (`dtls-failed`). The handshake begins at the first DTLS
 *   datagram from the peer (we are server) or when ICE latched (we are client) — not when the
 *   leg opens, as a browser we ring may take a while to answer.
 * - The SRTP keys come from the exporter (RFC 5764 §4.2: client write key, server write key,
 *   client salt, server salt; werift-dtls's extractSessionKeys splits them by our role); the
 *   leg keys its own SrtpContexts with them, so the per-packet path is the SDES one.
 * - After the keys, DTLS datagrams still reach werift-dtls (a peer that lost our last flight
 *   retransmits its Finished and needs our answer again); a renegotiation is not followed: the
 *   first keys stay.
 * - As server we send the handshake's last flight (ChangeCipherSpec + Finished), which nothing
 *   acknowledges: a client that lost it retransmits its own last flight, and the server must
 *   send its flight again (RFC 6347 §4.2.4). werift-dtls does so while the leg is in its worker;
 *   the flight's datagrams are also kept (and travel with a moved leg, which has no werift-dtls),
 *   and a connected leg without werift-dtls sends them again when a handshake record arrives,
 *   once per retransmitted flight. As client, our last flight is answered by the server's, which
 *   we had when we connected: nothing to send again (and answering a server's retransmission
 *   with our flight would only make it send its own again).
 * - werift-dtls is loaded on the first WebRTC leg of a worker, not at the worker's start.
 *
 * A leg moves between workers (leg-state.ts) with `snapshot()`: a connected leg carries its ICE
 * state and latched address here (with the addresses ICE validated), its final flight as
 * server, its SRTP contexts in the leg's own state, and needs no werift-dtls in the new worker. A leg still handshaking cannot carry werift-dtls's state: `settled()` lets the
 * engine wait for the handshake's outcome (at most the 10 s deadline) before it moves it.
 */
import type { AddressInfo } from 'node:net';
import type * as DtlsModule from 'werift-dtls/lib/dtls/src/index.js';
import { DTLS_HANDSHAKE_TIMEOUT_MS } from '../protocol.js';
import type { CertificateFingerprint, DtlsCertificatePem, IceCredentials, WebRtcLegParams } from '../protocol.js';
import { matchesFingerprint } from './dtls-certificate.js';
import { IceLite } from './ice-lite.js';
import type { RtpSocket } from './rtp-socket.js';
import type { SrtpKey } from './srtp-keys.js';

/** RFC 5764 §4.1.2: SRTP_AES128_CM_HMAC_SHA1_80. */
const SRTP_AES128_CM_HMAC_SHA1_80 = 1;
const SRTP_KEY_OCTETS = 16;
const SRTP_SALT_OCTETS = 14;
/** Validated remote addresses remembered (a peer has a few candidates; more are old ones). */
const MAX_VALIDATED = 8;
/** RFC 6347 §4.1 record content type of handshake messages. */
const DTLS_HANDSHAKE = 22;
/**
 * One retransmitted flight arrives as a burst of datagrams (read in the same tick); peers wait
 * 50 ms at least before the next retransmission (Chrome's first timer, then it doubles).
 */
const RESEND_GAP_MS = 40;

/** ECDSA with SHA-256 (TLS 1.2 SignatureAndHashAlgorithm 4/3): our certificate is P-256. */
const SIGNATURE_HASH = { hash: 4, signature: 3 } as const;

export type WebRtcPhase = 'new' | 'handshaking' | 'verifying' | 'connected' | 'failed' | 'closed';

/** What the transport tells its leg. */
export interface WebRtcEvents {
  /** Verified: key SRTP (send with `send`, unprotect with `receive`) and send to `remote`. */
  connected(keys: { send: SrtpKey; receive: SrtpKey }, remote: { address: string; port: number }): void;
  /** The peer nominated another address after the connection (it moved): send there now. */
  remoteMoved(remote: { address: string; port: number }): void;
  /** The handshake failed, timed out, or the certificate did not match: the leg is closed. */
  failed(reason: string): void;
}

/** The transport as plain data, for a leg moving to another worker (connected or not started). */
export interface WebRtcState {
  localIce: IceCredentials;
  remoteIce: IceCredentials | null;
  dtlsRole: 'server' | 'client';
  remoteFingerprint: CertificateFingerprint | null;
  remote: { address: string; port: number } | null;
  nominated: boolean;
  connected: boolean;
  /** Sources of authentic checks (`address:port`), oldest first: DTLS is taken from these only. */
  validated: string[];
  /** As a connected server: the datagrams of our last flight, sent again if the client retransmits its own. */
  finalFlight: Uint8Array[];
}

type Dtls = typeof DtlsModule;
type DtlsSocket = InstanceType<Dtls['DtlsSocket']>;
/** werift-dtls, loaded once per worker on first use (its package main is broken: the deep path). */
let dtlsModule: Promise<Dtls> | undefined;
let loaded: Dtls | null = null;

export class WebRtcTransport {
  private readonly module: Dtls;
  private readonly ice: IceLite;
  private dtlsRole: 'server' | 'client';
  private remoteFingerprint: CertificateFingerprint | null;
  private remote: { address: string; port: number } | null;
  private nominated: boolean;
  /** Sources of authentic checks (`address:port`), the peer's side of its valid pairs; the newest few. */
  private readonly validated = new Set<string>();
  private state: WebRtcPhase;
  private dtls: DtlsSocket | null = null;
  private glue: DtlsGlue | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The peer's certificate (DER) once DTLS connected, kept until its fingerprint is checked. */
  private peerCertificate: Uint8Array | null = null;
  private keys: { send: SrtpKey; receive: SrtpKey } | null = null;
  private waiters: Array<() => void> = [];
  /** A restored leg's final flight (a leg that handshook here has it in its glue). */
  private readonly restoredFlight: Uint8Array[];
  private lastResend = -Infinity;

  /**
   * A leg's transport: new (`params`), or carried on from another worker (`restore`, whose
   * fields win). Call `load()` first: werift-dtls must be loaded.
   */
  constructor(params: WebRtcLegParams, certificate: DtlsCertificatePem, socket: RtpSocket, events: WebRtcEvents);
  constructor(params: null, certificate: DtlsCertificatePem, socket: RtpSocket, events: WebRtcEvents, restore: WebRtcState);
  constructor(
    params: WebRtcLegParams | null,
    private readonly certificate: DtlsCertificatePem,
    private readonly socket: RtpSocket,
    private readonly events: WebRtcEvents,
    restore?: WebRtcState,
  ) {
    if (loaded === null) throw new Error('werift-dtls is not loaded: await WebRtcTransport.load() first');
    this.module = loaded;
    const from = restore ?? fromParams(params!);
    this.ice = new IceLite(from.localIce, from.remoteIce);
    this.dtlsRole = from.dtlsRole;
    this.remoteFingerprint = from.remoteFingerprint;
    this.remote = from.remote;
    this.nominated = from.nominated;
    for (const v of from.validated) this.validated.add(v);
    if (this.remote !== null) this.validated.add(`${this.remote.address}:${this.remote.port}`);
    this.restoredFlight = from.finalFlight;
    this.state = from.connected ? 'connected' : 'new';
  }

  /** Loads werift-dtls (once per worker; a worker that never has a WebRTC leg never loads it). */
  static async load(): Promise<void> {
    dtlsModule ??= import('werift-dtls/lib/dtls/src/index.js');
    loaded = await dtlsModule;
  }

  /** Throws a RangeError for parameters a leg cannot be opened with (before any socket is bound). */
  static check(params: WebRtcLegParams, certificate: DtlsCertificatePem | undefined): void {
    if (!certificate) throw new RangeError('no DTLS certificate: the media engine was started without one');
    checkIce(params.localIce);
    WebRtcTransport.checkUpdate(params);
    if (params.dtlsRole !== 'server' && params.dtlsRole !== 'client') throw new RangeError(`unknown DTLS role ${String(params.dtlsRole)}`);
  }

  /**
   * Throws a RangeError for a peer's ICE credentials that are not text: a ufrag that arrived as
   * a number (an SDP parser's "9401") would never equal the USERNAME of its checks, which would
   * then all be refused with 401 — a stalled call instead of a refused request.
   */
  static checkUpdate(p: Partial<Pick<WebRtcLegParams, 'remoteIce'>>): void {
    const ice = p.remoteIce;
    if (ice === undefined || ice === null) return;
    if (typeof ice.ufrag !== 'string' || ice.ufrag.length === 0 || typeof ice.pwd !== 'string' || ice.pwd.length === 0) throw new RangeError("the peer's ICE ufrag and pwd must be non-empty strings");
  }

  get phase(): WebRtcPhase {
    return this.state;
  }

  /** What the peer's SDP says (an answer to our offer, a new offer); absent = unchanged. */
  update(p: Partial<Pick<WebRtcLegParams, 'remoteIce' | 'remoteFingerprint' | 'dtlsRole'>>): void {
    if (p.remoteIce !== undefined) this.ice.remote = p.remoteIce;
    if (p.dtlsRole !== undefined && (this.state === 'new' || p.dtlsRole === this.dtlsRole)) this.dtlsRole = p.dtlsRole;
    if (p.remoteFingerprint !== undefined) {
      this.remoteFingerprint = p.remoteFingerprint;
      if (this.state === 'verifying') this.verify();
    }
    if (this.state === 'new' && this.dtlsRole === 'client' && this.remote !== null) this.startClient();
  }

  /** One STUN (first octet 0–3) or DTLS (20–63) datagram; anything else is dropped. */
  receive(datagram: Uint8Array, address: string, port: number): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    const first = datagram[0]!;
    if (first < 4) this.receiveStun(datagram, address, port);
    else if (first >= 20 && first < 64) this.receiveDtls(datagram, address, port);
  }

  /** Resolves once the handshake is over, one way or the other (at once when it has not started). */
  settled(): Promise<void> {
    if (this.state !== 'handshaking' && this.state !== 'verifying') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  snapshot(): WebRtcState {
    return {
      localIce: this.ice.local,
      remoteIce: this.ice.remote,
      dtlsRole: this.dtlsRole,
      remoteFingerprint: this.remoteFingerprint,
      remote: this.remote,
      nominated: this.nominated,
      connected: this.state === 'connected',
      validated: [...this.validated],
      finalFlight: this.finalFlight(),
    };
  }

  close(): void {
    if (this.state === 'closed') return;
    this.finish('closed');
  }

  private receiveStun(datagram: Uint8Array, address: string, port: number): void {
    const outcome = this.ice.handle(datagram, address, port);
    if (outcome.reply !== null) this.socket.send(outcome.reply, port, address);
    if (!outcome.valid) return;
    const key = `${address}:${port}`;
    this.validated.delete(key);
    this.validated.add(key);
    if (this.validated.size > MAX_VALIDATED) this.validated.delete(this.validated.values().next().value!);
    const same = this.remote !== null && this.remote.address === address && this.remote.port === port;
    if (same) {
      if (outcome.nominated) this.nominated = true;
      return;
    }
    // The first validated address until one is nominated; a nomination moves it.
    if (this.remote !== null && !outcome.nominated) return;
    this.remote = { address, port };
    if (outcome.nominated) this.nominated = true;
    if (this.state === 'connected') this.events.remoteMoved(this.remote);
    else if (this.state === 'new' && this.dtlsRole === 'client') this.startClient();
  }

  private receiveDtls(datagram: Uint8Array, address: string, port: number): void {
    // Only from an address ICE validated (RFC 8445 §7.3: media from an unvalidated address is
    // dropped). A peer that nominated several pairs (werift does, aggressively) speaks DTLS on
    // the one it chose: that one becomes the remote.
    if (!this.validated.has(`${address}:${port}`)) return;
    if (this.remote === null || this.remote.address !== address || this.remote.port !== port) {
      this.remote = { address, port };
      if (this.state === 'connected') this.events.remoteMoved(this.remote);
    }
    if (this.dtls === null) {
      if (this.state === 'connected') {
        // A restored leg: its werift-dtls stayed behind. A handshake record now is the client's
        // last flight again: ours did not reach it.
        if (datagram[0] === DTLS_HANDSHAKE) this.resendFinalFlight();
        return;
      }
      if (this.dtlsRole !== 'server' || this.state !== 'new') return;
      this.startServer();
    }
    this.glue!.deliver(Buffer.from(datagram), address, port);
  }

  /** As a connected server: our last flight, to the remote, once per retransmission of the client's. */
  private resendFinalFlight(): void {
    const now = Date.now();
    if (now - this.lastResend < RESEND_GAP_MS || this.remote === null) return;
    this.lastResend = now;
    for (const datagram of this.restoredFlight) this.socket.send(datagram, this.remote.port, this.remote.address);
  }

  /** The datagrams of our last flight as a connected server; none otherwise. */
  private finalFlight(): Uint8Array[] {
    if (this.state !== 'connected' || this.dtlsRole !== 'server') return [];
    return this.glue !== null ? this.glue.lastFlight : this.restoredFlight;
  }

  private startServer(): void {
    this.begin(new this.module.DtlsServer(this.dtlsOptions(true)));
  }

  private startClient(): void {
    const client = new this.module.DtlsClient(this.dtlsOptions(false));
    this.begin(client);
    client.connect().catch((error: unknown) => this.fail(`DTLS handshake failed: ${(error as Error).message}`));
  }

  private dtlsOptions(server: boolean): ConstructorParameters<Dtls['DtlsServer']>[0] {
    this.glue = new DtlsGlue(this.socket, () => this.remote);
    return {
      transport: this.glue,
      cert: this.certificate.certPem,
      key: this.certificate.keyPem,
      signatureHash: SIGNATURE_HASH,
      srtpProfiles: [SRTP_AES128_CM_HMAC_SHA1_80],
      extendedMasterSecret: true,
      ...(server ? { certificateRequest: true } : {}),
    };
  }

  private begin(dtls: DtlsSocket): void {
    this.dtls = dtls;
    this.state = 'handshaking';
    this.timer = setTimeout(() => this.fail(`no verified DTLS connection within ${DTLS_HANDSHAKE_TIMEOUT_MS / 1000} s`), DTLS_HANDSHAKE_TIMEOUT_MS);
    dtls.onConnect.subscribe(() => this.onConnect(dtls));
    dtls.onError.subscribe((error: unknown) => this.fail(`DTLS handshake failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  private onConnect(dtls: DtlsSocket): void {
    if (this.state !== 'handshaking') return; // a renegotiation: the first keys stay
    if (dtls.srtp.srtpProfile !== SRTP_AES128_CM_HMAC_SHA1_80) {
      this.fail('the peer agreed no SRTP profile we speak (use_srtp, RFC 5764 §4.1.2)');
      return;
    }
    const certificate = dtls.remoteCertificate;
    if (!certificate) {
      this.fail('the peer sent no certificate');
      return;
    }
    const { localKey, localSalt, remoteKey, remoteSalt } = dtls.extractSessionKeys(SRTP_KEY_OCTETS, SRTP_SALT_OCTETS) as Record<string, Buffer>;
    this.keys = {
      send: { suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(localKey!), masterSalt: new Uint8Array(localSalt!) },
      receive: { suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(remoteKey!), masterSalt: new Uint8Array(remoteSalt!) },
    };
    this.peerCertificate = new Uint8Array(certificate);
    this.state = 'verifying';
    this.verify();
  }

  /** The peer's certificate against its SDP's fingerprint (waits for the SDP if it is not here). */
  private verify(): void {
    if (this.remoteFingerprint === null || this.peerCertificate === null || this.keys === null) return;
    if (!matchesFingerprint(this.peerCertificate, this.remoteFingerprint)) {
      this.fail(`the peer's DTLS certificate does not match its fingerprint (${this.remoteFingerprint.algorithm})`);
      return;
    }
    this.finish('connected');
    this.events.connected(this.keys, this.remote!);
  }

  private fail(reason: string): void {
    if (this.state === 'connected' || this.state === 'failed' || this.state === 'closed') return;
    this.finish('failed');
    this.events.failed(reason);
  }

  /** The handshake's end, one way or the other: its timer stops, waiters go on. */
  private finish(state: 'connected' | 'failed' | 'closed'): void {
    this.state = state;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.peerCertificate = null;
    if (state !== 'connected') {
      this.glue?.shut();
      this.dtls = null;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * werift-dtls's Transport over the leg's socket: datagrams in through `deliver` (the socket
 * belongs to the leg), out to the latched ICE address only. Closing it (werift-dtls closes its
 * transport on close) stops its sends and leaves the socket to the leg.
 */
class DtlsGlue {
  readonly type = 'udp';
  closed = false;
  onData: (data: Buffer, addr: readonly [string, number]) => void = () => undefined;
  /** The datagrams sent since the peer last spoke: our last flight (copies; the caller may reuse its buffers). */
  lastFlight: Uint8Array[] = [];
  private peerSpoke = true;

  constructor(
    private readonly socket: RtpSocket,
    private readonly remote: () => { address: string; port: number } | null,
  ) {}

  get address(): AddressInfo {
    return { address: this.socket.localAddress, port: this.socket.localPort, family: this.socket.localAddress.includes(':') ? 'IPv6' : 'IPv4' };
  }

  deliver(data: Buffer, address: string, port: number): void {
    if (this.closed) return;
    this.peerSpoke = true;
    this.onData(data, [address, port]);
  }

  readonly send = (data: Buffer): Promise<void> => {
    const to = this.remote();
    // A retransmission timer of a failed or closed handshake may still fire: it goes nowhere.
    if (this.closed || to === null) return Promise.resolve();
    this.socket.send(data, to.port, to.address);
    // A flight is what we send between two datagrams of the peer; a retransmission by our own
    // timer sends the same datagrams again, and is not kept twice.
    if (this.peerSpoke) {
      this.peerSpoke = false;
      this.lastFlight = [];
    }
    if (!this.lastFlight.some((d) => Buffer.from(d.buffer, d.byteOffset, d.length).equals(data))) this.lastFlight.push(new Uint8Array(data));
    return Promise.resolve();
  };

  readonly close = (): Promise<void> => {
    this.shut();
    return Promise.resolve();
  };

  shut(): void {
    this.closed = true;
  }
}

/** A new leg's transport state: nothing latched, not connected. */
function fromParams(p: WebRtcLegParams): WebRtcState {
  return {
    localIce: p.localIce,
    remoteIce: p.remoteIce ?? null,
    dtlsRole: p.dtlsRole,
    remoteFingerprint: p.remoteFingerprint ?? null,
    remote: null,
    nominated: false,
    connected: false,
    validated: [],
    finalFlight: [],
  };
}

/** RFC 8445 §5.3: ufrag at least 4 characters, pwd at least 22, both ice-chars (RFC 8839 §5.4). */
function checkIce(ice: IceCredentials): void {
  const iceChars = /^[A-Za-z0-9+/]+$/;
  if (typeof ice?.ufrag !== 'string' || ice.ufrag.length < 4 || ice.ufrag.length > 256 || !iceChars.test(ice.ufrag)) throw new RangeError('our ICE ufrag must be 4–256 ice-chars');
  if (typeof ice.pwd !== 'string' || ice.pwd.length < 22 || ice.pwd.length > 256 || !iceChars.test(ice.pwd)) throw new RangeError('our ICE pwd must be 22–256 ice-chars');
}
