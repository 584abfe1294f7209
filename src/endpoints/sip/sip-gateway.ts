/**
 * Conclave's SIP edge: one user agent on the configured host and port (UDP and TCP, RFC 3261
 * §18; TLS on its own port when configured, §26.2), whose calls get an RTP
 * leg in the media plane; host names in dialled URIs are found in DNS (RFC 3263, SipResolver). Outbound, it dials `sip:` endpoints for Calls and Create Participant
 * (sip-outbound.ts); inbound, it hands each INVITE to the router the app gives (a number the
 * account owns → its VoiceUrl → TwiML), ringing until the TwiML decides (sip-inbound.ts).
 * A phone's own hold (re-INVITE, RFC 3264 §8.4) is answered here and told to the conference
 * media; a new address in a re-INVITE moves where RTP goes.
 * Floods are held off here too: per-source request budgets and a cap on live transactions
 * (RequestAdmission), TCP connection limits, and log lines throttled into summaries (SipFloodLog).
 */
import type { SipDomain } from '../../domain/sip-domain.js';
import type { SdesCrypto } from '../../sip/sdp/sdes-crypto.js';
import type { SipDomainGuard } from './sip-domain-guard.js';
import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { DEFAULT_CARRIER_NETWORKS, DEFAULT_SIP_LIMITS, type SipLimits, type SipTlsConfig, type SipTrunkConfig } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { DialOptions, DialResult, InboundLeg } from '../../domain/call-ports.js';
import { SipResolver } from '../../sip/dns/sip-resolver.js';
import { sipDestinations } from '../../sip/dns/sip-destinations.js';
import { RequestAdmission } from '../../sip/limits/request-admission.js';
import { writeAnswer, type LocalAudio, type RemoteAudio } from '../../sip/sdp/audio-session.js';
import { isWebRtcAudio, rtpAudio, type SessionAudio } from '../../sip/sdp/session-audio.js';
import type { LocalWebRtcAudio, RemoteWebRtcAudio } from '../../sip/sdp/webrtc-audio.js';
import { answerWebRtc, offerWebRtc, reanswerWebRtc, type OfferedWebRtc } from '../webrtc/webrtc-media.js';
import type { SipCall } from '../../sip/ua/call.js';
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import { SipUserAgent } from '../../sip/ua/user-agent.js';
import { SipCombinedTransport } from '../../sip/transport/combined-transport.js';
import type { MediaLeg } from '../media/media-leg.js';
import type { MediaLogger, MediaPlane, RtpLegParams } from '../media/media-plane.js';
import { CarrierSources } from './carrier-sources.js';
import { SipFloodLog } from './sip-flood-log.js';
import { SourceFailureBudget } from './source-failure-budget.js';
import { SipInbound } from './sip-inbound.js';
import { SipFork } from './sip-fork.js';
import { SipOutbound } from './sip-outbound.js';
import { SipRegistrar } from './sip-registrar.js';
import { SipTrunk } from './sip-trunk.js';
import { SipTrunkRegistration } from './sip-trunk-registration.js';
import { observedTransport, type SipMessageObserver } from './observed-transport.js';
import type { SipMessageBuffer } from '../../sip/trace/sip-message-buffer.js';
import { sipTraceListener, type SipTraceLogger } from './sip-trace-log.js';
import { logDialog, logMediaLeg, transactionStateLog, type SipDebugLogger } from './sip-debug-log.js';

export interface SipGatewayOptions {
  host: string;
  port: number;
  publicAddress: string;
  /** Per-source budgets and global caps; DEFAULT_SIP_LIMITS when absent. */
  limits?: SipLimits;
  /** DNS servers for SIP host names (`ip[:port]`); the system's when absent. */
  dnsServers?: readonly string[];
  /** SIP over TLS: its port and PEM files; off when absent. */
  tls?: SipTlsConfig;
  /** Where calls to numbers may come from besides the trunk (carrier-sources.ts); DEFAULT_CARRIER_NETWORKS when absent. */
  carrierNetworks?: readonly string[];
  /** The carrier trunk calls to numbers go out through (sip-trunk.ts); none when absent. */
  trunk?: SipTrunkConfig;
  /** Told of every message the user agent receives and sends (the metrics). */
  observe?: SipMessageObserver;
  /** Every SIP message logged at info (CONCLAVE_SIP_TRACE=true); else only at trace level. */
  trace?: boolean;
  /** Where each call's SIP messages are kept (the SipMessages resource); none when absent. */
  messages?: SipMessageBuffer;
}

/** What an inbound INVITE asks for, for the app's router. */
export interface InboundSipCall {
  /** The user part of the Request-URI: a number (`+1555…` or `1555…`) or a name. */
  user: string;
  /** The caller, as its From URI says. */
  from: string;
  leg: InboundLeg;
  /** The INVITE's Call-ID, for tracing (SipGateway.traceCall). */
  callId: string;
}

/** Routes an inbound call; `false` when nothing answers to that user (404). */
export type InboundRouter = (call: InboundSipCall) => Promise<boolean>;

/** An INVITE to a SIP Domain (the Request-URI's host) that the domain's guard let in. */
export interface DomainSipCall {
  domain: SipDomain;
  /** The Request-URI without parameters, `sip:alice@acme.example`: Twilio's `To`. */
  to: string;
  from: string;
  leg: InboundLeg;
  /** `SipDomain`, `SipDomainSid`, `SipCallId`, `SipSourceIp`, `SipHeader_X-…`: the webhook's extra parameters. */
  params: Record<string, string>;
}

export interface SipGatewayHooks {
  route: InboundRouter;
  /** SIP Domains: the guard of who may call in, and where an admitted call goes (`false`: 404). */
  domains?: { guard: SipDomainGuard; route: (call: DomainSipCall) => Promise<boolean> };
  /** The phone held the call (true) or resumed it (false). */
  phoneHold: (callSid: string, held: boolean) => void;
}

/** One call's media as the SIP side knows it: for re-INVITE answers. */
export type SipCallMedia = RtpCallMedia | WebRtcCallMedia;

/** A phone's or trunk's call: G.711 over RTP, or SRTP with SDES keys. */
export interface RtpCallMedia {
  leg: MediaLeg;
  local: LocalAudio;
  /** Our SRTP key and line (an SRTP call): a re-INVITE is answered with the same key. */
  crypto?: SdesCrypto;
}

/** A WebRTC SIP client's call (JsSIP over WebSocket): ICE-lite, DTLS-SRTP (webrtc-media.ts). */
export interface WebRtcCallMedia {
  leg: MediaLeg;
  webrtc: LocalWebRtcAudio;
  /** The peer's last offer or answer: a re-INVITE changes the leg only where it differs. */
  peer: RemoteWebRtcAudio;
}

export interface SipGatewayLogger extends MediaLogger, SipTraceLogger, SipDebugLogger {
  info(obj: object, msg: string): void;
}

export class SipGateway {
  private readonly calls = new Map<SipCall, SipCallMedia>();
  private readonly outbound: SipOutbound;
  /** Rings every registered phone of a SIP Domain user at once. */
  private readonly fork: SipFork;
  private readonly inbound: SipInbound;
  /** The registrar of the SIP Domains with `SipRegistration=true` (sip-registrar.ts). */
  private readonly registrar: SipRegistrar | undefined;
  /** The carrier trunk for numbers (CONCLAVE_SIP_TRUNK); set once by open(). */
  private carrier: SipTrunk | undefined;
  /** Our registration with the carrier trunk (CONCLAVE_SIP_TRUNK_REGISTER=true); set once by open(). */
  private trunkRegistration: SipTrunkRegistration | undefined;

  private constructor(
    private readonly transport: SipCombinedTransport,
    readonly ua: SipUserAgent,
    private readonly plane: MediaPlane,
    private readonly hooks: SipGatewayHooks,
    private readonly logger: SipGatewayLogger,
    readonly publicAddress: string,
    /** Log lines a flood would multiply, throttled into summaries. */
    readonly floodLog: SipFloodLog,
    /** Finds the servers of a dialled URI's host name (RFC 3263). */
    readonly resolver: SipResolver,
    /** The carrier networks and the trunk's addresses: who may call numbers. */
    private readonly carrierSources: CarrierSources,
    /** Each call's SIP messages (the SipMessages resource); none when absent. */
    private readonly messages: SipMessageBuffer | undefined,
  ) {
    this.outbound = new SipOutbound(this);
    this.fork = new SipFork(this, (uri) => this.outbound.targetsOf(uri));
    // One failure budget per source for everything inbound: the domains' guard's, shared.
    this.inbound = new SipInbound(this, hooks.route, carrierSources, hooks.domains?.guard.failures ?? new SourceFailureBudget(), hooks.domains);
    this.registrar = hooks.domains ? new SipRegistrar(hooks.domains.guard, hooks.domains.guard.directory, logger, floodLog, (source) => transport.reachesWebSocket(source)) : undefined;
  }

  static async open(options: SipGatewayOptions, plane: MediaPlane, hooks: SipGatewayHooks, logger: SipGatewayLogger): Promise<SipGateway> {
    // The user agent's callbacks need the gateway, which needs the user agent.
    const holder: { gateway?: SipGateway } = {};
    const limits = options.limits ?? DEFAULT_SIP_LIMITS;
    const floodLog = new SipFloodLog(logger);
    const admission = new RequestAdmission({
      invitesPerSecond: limits.invitesPerSecond,
      registersPerSecond: limits.registersPerSecond,
      maxServerTransactions: limits.maxTransactions,
      trusted: limits.trusted,
    });
    const tls = options.tls ? await readTlsFiles(options.tls) : undefined;
    const transport = await SipCombinedTransport.open({
      host: options.host,
      port: options.port,
      publicHost: options.publicAddress,
      ...(tls ? { tls } : {}),
      // A front in CONCLAVE_SIP_TRUSTED (the TLS terminator of wss://) tells each browser's own address.
      ws: { trustedProxy: (host) => admission.trusted.has(host) },
      tcp: {
        maxConnections: limits.tcpMax > 0 ? limits.tcpMax : Infinity,
        maxConnectionsPerSource: limits.tcpPerSource > 0 ? limits.tcpPerSource : Infinity,
        exempt: (host) => admission.trusted.has(host),
        onRefused: (source, limit) => floodLog.connectionRefused(source, limit),
      },
      drop: (data, source) => {
        const method = admission.screen(data, source.host);
        if (method !== undefined) floodLog.refused(method, source, 'drop', 'source-budget');
        return method !== undefined;
      },
      onMalformed: (error, source, answered, closed) => floodLog.malformed(error, source, answered, closed),
      onError: (error) => logger.warn({ err: error }, 'SIP transport error'),
      onTrace: sipTraceListener(options.messages, logger, options.trace === true),
    });
    const address = { host: options.publicAddress, port: transport.address.port };
    const ua = new SipUserAgent({
      transport: options.observe ? observedTransport(transport, options.observe) : transport,
      address,
      onInvite: (incoming) => holder.gateway?.inbound.receive(incoming),
      onReinvite: (call, offer) => {
        if (!holder.gateway) throw new Error('SIP gateway not ready');
        return holder.gateway.reinvited(call, offer);
      },
      // RFC 3263 for ACK, BYE and re-INVITE too: a carrier's Contact or Record-Route may name a host.
      resolveTarget: (uri) => sipDestinations(resolver, uri),
      onError: (error) => logger.warn({ err: error }, 'SIP user agent error'),
      // Without SIP Domains there is nothing to register to, and REGISTER stays 501.
      ...(hooks.domains ? { onRegister: (request, source, respond) => holder.gateway?.registrar?.receive(request, source, respond) } : {}),
      admission,
      onRefused: (request, source, action, cause) => floodLog.refused(request.method, source, action, cause),
      onTransactionState: transactionStateLog(logger),
    });
    // The transports the combined transport speaks: TLS only when configured (else sips: is refused).
    const resolver = new SipResolver({ ...(options.dnsServers ? { servers: options.dnsServers } : {}), transports: tls ? ['udp', 'tcp', 'tls'] : ['udp', 'tcp'] });
    const carrierSources = await CarrierSources.open({ networks: options.carrierNetworks ?? DEFAULT_CARRIER_NETWORKS, ...(options.trunk ? { trunkUri: options.trunk.uri } : {}), resolver, logger });
    holder.gateway = new SipGateway(transport, ua, plane, hooks, logger, options.publicAddress, floodLog, resolver, carrierSources, options.messages);
    if (options.trunk) holder.gateway.carrier = new SipTrunk(options.trunk);
    if (options.trunk?.register && options.trunk.auth) {
      holder.gateway.trunkRegistration = new SipTrunkRegistration({ trunk: { ...options.trunk, auth: options.trunk.auth }, ua, contact: address, resolver, logger });
    }
    return holder.gateway;
  }

  /**
   * An HTTP upgrade request of the SIP WebSocket path (RFC 7118; the API port's `/sip`): a WebRTC
   * SIP client's connection, which registers and calls like any phone (ws-transport.ts).
   */
  acceptWebSocket(request: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    this.transport.acceptWebSocket(request, socket, head, secure);
  }

  /**
   * Closes the WebSocket clients' connections (1001 Going Away); idempotent. At shutdown, before
   * the HTTP server, whose close waits for them: their calls' BYEs then fail and the calls end.
   */
  async closeWebSockets(): Promise<void> {
    await this.transport.ws.close();
  }

  /** The port SIP listens on (the configured one, or the one picked for port 0). */
  get port(): number {
    return this.transport.address.port;
  }

  get media(): MediaPlane {
    return this.plane;
  }

  get log(): SipGatewayLogger {
    return this.logger;
  }

  /**
   * Dials a `sip:` URI. One whose host is a SIP Domain rings every registered phone of the user
   * (at the address each REGISTER came from when that differs, or through its Path:
   * sip-registrar.ts; several at once: sip-fork.ts), and fails at once with no-answer (480) when
   * the user has no binding, rather than looking the domain's name up in DNS.
   */
  async dial(uri: string, options: DialOptions): Promise<DialResult> {
    let registered: Awaited<ReturnType<SipRegistrar['targetsFor']>>;
    try {
      registered = await this.registrar?.targetsFor(uri);
    } catch (error) {
      this.logger.warn({ err: error, callSid: options.callSid, uri }, `SIP: cannot dial ${uri}: the SIP domain lookup failed`);
      return { outcome: 'failed' };
    }
    if (!registered) return this.outbound.dial(uri, options);
    const { targets } = registered;
    const [target] = targets;
    if (target === undefined) {
      this.logger.info({ callSid: options.callSid, uri, domain: registered.domain.domainName }, `SIP: ${uri} is not registered`);
      return { outcome: 'no-answer', sipResponseCode: 480 };
    }
    // One phone reached directly: the plain dial. Several, or one behind a Path: the fork (sip-fork.ts).
    if (targets.length === 1 && !target.route) return this.outbound.dial(target.uri, options);
    return this.fork.dial(uri, targets, options);
  }

  /**
   * Dials an E.164 number through the carrier trunk (sip-trunk.ts): the number at the trunk's
   * host, the caller ID (`options.from`) in From and P-Asserted-Identity, the trunk's
   * credentials for its challenges. Undefined without a trunk.
   */
  dialNumber(number: string, options: DialOptions): Promise<DialResult> | undefined {
    if (!this.carrier) return undefined;
    const invite = this.carrier.invite(number, options.from, this.publicAddress);
    return this.outbound.dial(invite.uri, options, invite);
  }

  /** Whether calls to numbers have a carrier trunk to go out through. */
  get dialsNumbers(): boolean {
    return this.carrier !== undefined;
  }

  /**
   * Opens the call's RTP leg: resolves with the leg (its `ended` settles if the media plane
   * closes it: RTP timeout, worker failure) and our side for the SDP (public address, the leg's
   * port, a fresh o= session). Rejects with a MediaError (`ports-exhausted`…) when it cannot.
   */
  async openMedia(callSid: string, params: RtpLegParams): Promise<{ leg: MediaLeg; local: LocalAudio }> {
    const { leg, local } = await this.plane.openRtpLeg(callSid, params);
    logMediaLeg(this.logger, leg, { port: local.port, codec: params.codec, ...(params.remote ? { remote: params.remote } : {}), srtp: params.srtp !== undefined });
    return { leg, local: { address: this.publicAddress, port: local.port, sessionId: String(randomInt(1, 2 ** 31)), sessionVersion: 1 } };
  }

  /**
   * Answers a WebRTC offer (JsSIP's INVITE): the call's WebRTC leg, our answer naming the public
   * address. Rejects with WebRtcOfferRefused for an unusable offer, a MediaError when no leg opens.
   */
  async answerWebRtc(callSid: string, offerSdp: string, unanswered: boolean): Promise<{ sdp: string; media: WebRtcCallMedia }> {
    const { leg, answerSdp, local, offer } = await answerWebRtc(this.plane, callSid, offerSdp, { unanswered, advertisedAddress: this.publicAddress });
    logMediaLeg(this.logger, leg, { port: local.port, codec: `${offer.codec}, WebRTC`, srtp: true });
    return { sdp: answerSdp, media: { leg, webrtc: local, peer: offer } };
  }

  /** Our WebRTC offer to a WebSocket contact (a JsSIP client), naming the public address; its leg waits for the answer. */
  async offerWebRtc(callSid: string): Promise<OfferedWebRtc> {
    const offered = await offerWebRtc(this.plane, callSid, { unanswered: true, advertisedAddress: this.publicAddress });
    logMediaLeg(this.logger, offered.leg, { port: offered.local.port, codec: 'WebRTC offer', srtp: true });
    return offered;
  }

  /** Whether a new call would get an RTP port pair: when not, an INVITE is answered 503 at once. */
  hasMediaCapacity(): boolean {
    return this.plane.hasRtpCapacity();
  }

  /** The SIP messages of dialog `callId` are call `callSid`'s (the SipMessages resource). */
  traceCall(callId: string, callSid: string): void {
    this.messages?.bind(callId, callSid);
  }

  /** Remembers a call's media until it ends. */
  track(call: SipCall, media: SipCallMedia): void {
    this.calls.set(call, media);
    logDialog(this.logger, call, media.leg.callSid);
    call.on('ended', () => {
      this.calls.delete(call);
      this.hooks.phoneHold(media.leg.callSid, false);
    });
  }

  /** A re-INVITE from the phone: follow its address (or its new ICE/DTLS attributes), tell its hold, answer with our same media. */
  private async reinvited(call: SipCall, offer: SessionAudio): Promise<string> {
    const media = this.calls.get(call);
    if (!media) throw new Error('re-INVITE for a call without media');
    const { callSid } = media.leg;
    let answer: string;
    if ('webrtc' in media) {
      if (!isWebRtcAudio(offer)) throw new Error('a WebRTC call re-INVITEd with a plain RTP offer');
      const next = reanswerWebRtc(this.plane, media.leg, media.webrtc, media.peer, offer);
      media.webrtc = next.local;
      media.peer = offer;
      answer = next.answerSdp;
    } else {
      answer = await this.reanswerRtp(media, rtpAudio(offer));
    }
    this.hooks.phoneHold(callSid, offer.onHold);
    this.logger.info({ callSid, onHold: offer.onHold }, 'SIP: the phone re-INVITEd');
    return answer;
  }

  private async reanswerRtp(media: RtpCallMedia, offer: RemoteAudio): Promise<string> {
    media.local = { ...media.local, sessionVersion: media.local.sessionVersion + 1 };
    const { callSid } = media.leg;
    if (offer.address !== '0.0.0.0') {
      await media.leg.setRemote({ address: offer.address, port: offer.port }, offer.codec, offer.telephoneEvent, offer.crypto?.key).catch((error: unknown) => this.plane.unlessGone(error, callSid, 'follow the re-INVITE'));
    }
    // An SRTP call keeps our key, on the line the new offer chose (RFC 4568 §7.1.4).
    const crypto = media.crypto && offer.crypto ? [{ tag: offer.crypto.tag, key: media.crypto.key }] : [];
    return writeAnswer(media.local, offer, { crypto });
  }

  /** The username registered with the carrier trunk: calls to it are calls to the number in To (called-user.ts). */
  get trunkUsername(): string | undefined {
    return this.trunkRegistration?.username;
  }

  async close(): Promise<void> {
    // First, while the user agent still runs: the carrier stops sending calls here (at most ~2 s).
    await this.trunkRegistration?.close();
    this.registrar?.close();
    this.carrierSources.close();
    for (const call of this.ua.activeCalls) call.hangup('shutdown');
    this.resolver.close();
    this.ua.close();
    await this.transport.close();
    this.floodLog.close();
  }
}

/** The PEM files of the TLS settings, read; a file that cannot be read or parsed stops the start. */
async function readTlsFiles(config: SipTlsConfig): Promise<{ port: number; cert: Buffer; key: Buffer; ca?: Buffer }> {
  const read = (path: string, name: string): Promise<Buffer> =>
    readFile(path).catch((error: unknown) => {
      throw new ConfigError(`${name}=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a PEM file this process may read`);
    });
  const [cert, key, ca] = await Promise.all([read(config.certFile, 'CONCLAVE_SIP_TLS_CERT'), read(config.keyFile, 'CONCLAVE_SIP_TLS_KEY'), config.caFile ? read(config.caFile, 'CONCLAVE_SIP_TLS_CA') : undefined]);
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (error) {
    throw new ConfigError(`CONCLAVE_SIP_TLS_CERT, CONCLAVE_SIP_TLS_KEY and CONCLAVE_SIP_TLS_CA must be a PEM certificate chain, its key and CA certificates (${(error as Error).message})`);
  }
  return { port: config.port, cert, key, ...(ca ? { ca } : {}) };
}

export type { IncomingCall };
