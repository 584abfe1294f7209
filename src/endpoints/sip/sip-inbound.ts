/**
 * An INVITE from a phone or trunk (RFC 3261 §13.3): the user part of its Request-URI names what
 * it calls — a number the account owns, with or without `+` — and the app's router creates the
 * inbound call, which rings (180) while its TwiML is fetched. The TwiML decides: answered (200
 * with our SDP answer and an RTP leg), or `<Reject>` (486 Busy Here for `busy`, 603 Decline
 * otherwise, as Twilio's SIP interface answers). Nothing to route to: 404. A CANCEL from the
 * caller before that abandons the call. `<Dial answerOnBridge>` first sends a 183 with the same
 * SDP answer and RTP leg (early media: the caller hears ringback), and answers on the bridge.
 * With every RTP port pair taken, an INVITE is answered 503 with Retry-After at once.
 *
 * Who may call (issue 14 §2): a number only from the carrier networks and the trunk
 * (carrier-sources.ts) — from anywhere else 403 Forbidden with a Warning (RFC 3261 §20.43)
 * saying why, before any look-up or webhook; a SIP Domain by the domain's own rules
 * (sip-domain-guard.ts). A DNS name that is no SIP Domain is, from a carrier, our own name
 * (carriers address us by it, and Conclave does not know its names), so the call goes to the
 * number in its user part; from anywhere else it is an address we do not take requests for:
 * 404 Not Found (§8.2.2.1). Each refusal of a stranger spends its source's failure budget
 * (source-failure-budget.ts), shared with the domains' failed credentials; past it, a source
 * outside the carrier networks is refused 403 at once, told in one log line a minute. A
 * carrier's calls to numbers nobody owns (404) spend nothing: one carrier address carries
 * every caller's calls, and a budget would soon refuse the real ones with the misdialled.
 *
 * A client over WebSocket (RFC 7118: JsSIP, SIP.js in a browser) is never a carrier, whatever
 * its address: behind the TLS front that gives it wss:// its source is the front's, often on
 * loopback or a private network, which the carrier networks include by default — so every
 * browser on the Internet would call numbers unasked. It calls through its SIP Domain
 * (`sip:+1555…@<domain>`, with the domain's credentials), as Twilio's SIP clients do.
 */
import type { IncomingCall } from '../../sip/ua/incoming-call.js';
import { isIP } from 'node:net';
import type { SipDomain } from '../../domain/sip-domain.js';
import type { CarrierSources } from './carrier-sources.js';
import type { SourceFailureBudget, Throttled } from './source-failure-budget.js';
import { parseSipUri, type SipUri } from '../../sip/sip-uri.js';
import { calledUser } from './called-user.js';
import { secureMediaRefusal } from './secure-media-policy.js';
import type { GuardVerdict } from './sip-domain-guard.js';
import type { InboundRouter, SipGateway, SipGatewayHooks } from './sip-gateway.js';
import { RETRY_AFTER, SipInboundLeg } from './sip-inbound-leg.js';

export class SipInbound {
  constructor(
    private readonly gateway: SipGateway,
    private readonly route: InboundRouter,
    private readonly carriers: CarrierSources,
    private readonly failures: SourceFailureBudget,
    private readonly domains?: SipGatewayHooks['domains'],
  ) {}

  async receive(incoming: IncomingCall): Promise<void> {
    const source = incoming.source.host;
    const carrier = !overWebSocket(incoming) && this.carriers.has(source);
    if (!carrier) {
      const throttled = this.failures.throttled(source);
      if (throttled) return this.refuseThrottled(incoming, throttled);
    }
    const uri = parseSipUri(incoming.request.uri);
    // A domain is a DNS name (an address is refused when one is created): an INVITE to an
    // address, as a trunk's to a number is, needs no look-up.
    if (uri && this.domains && isIP(uri.host) === 0) {
      let domain: SipDomain | undefined;
      try {
        domain = await this.domains.guard.domainOf(uri.host);
      } catch (error) {
        this.gateway.log.warn({ err: error, host: uri.host }, 'SIP: could not look up the SIP domain of an INVITE');
        incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
        return;
      }
      if (domain) return this.receiveForDomain(incoming, domain, uri);
      if (!carrier) return this.refuseStranger(incoming, 404, `there is no SIP Domain ${uri.host} here`, () => this.gateway.floodLog.unknownDomain(uri.host, fromOf(incoming), incoming.source));
    }
    const user = calledUser(incoming.request, this.gateway.trunkUsername);
    const from = fromOf(incoming);
    if (!carrier) return this.refuseStranger(incoming, 403, overWebSocket(incoming) ? 'a WebSocket client calls numbers through its SIP Domain (sip:<number>@<domain>)' : `calls to numbers are taken from the carrier networks only, and ${source} is not in them`, () => this.gateway.floodLog.outsideCarriers(user ?? '', from, incoming.source));
    if (!user) {
      incoming.reject(404, { reason: 'Not Found' });
      return;
    }
    if (!this.gateway.hasMediaCapacity()) {
      // Every RTP port pair is taken: say so now (RFC 3261 §21.5.4) rather than ring and fail.
      incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
      return;
    }
    const leg = new SipInboundLeg(this.gateway, incoming);
    let routed: boolean;
    try {
      routed = await this.route({ user: unescapeUser(user), from, leg, callId: incoming.callId });
    } catch (error) {
      this.gateway.log.warn({ err: error, user, from }, 'SIP: could not route an inbound call');
      incoming.reject(500, { reason: 'Server Internal Error' });
      return;
    }
    if (!routed) {
      this.gateway.floodLog.unrouted(user, from, incoming.source);
      incoming.reject(404, { reason: 'Not Found' });
    }
  }

  /**
   * An INVITE to a SIP Domain: refused when it breaks the domain's Secure Media setting (TLS and
   * SRTP, or plain RTP: secure-media-policy.ts); else its guard decides (the source's IP list, or
   * digest credentials: 407 until they come, 403 with no mapping); admitted, it runs the domain's
   * VoiceUrl with Twilio's SIP parameters.
   */
  private async receiveForDomain(incoming: IncomingCall, domain: SipDomain, uri: SipUri): Promise<void> {
    const from = fromOf(incoming);
    const domains = this.domains!;
    // Secure Media: TLS and SRTP with Secure=true, plain RTP without (secure-media-policy.ts).
    const refusal = secureMediaRefusal(domain, incoming);
    if (refusal) {
      incoming.reject(refusal.status, { reason: refusal.reason, headers: [warning(refusal.warning)] });
      return;
    }
    let verdict: GuardVerdict;
    try {
      verdict = await domains.guard.admit(domain, incoming.request, incoming.source.host);
    } catch (error) {
      this.gateway.log.warn({ err: error, domain: domain.domainName }, 'SIP: could not check who may call the domain');
      incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
      return;
    }
    if (!verdict.allowed) {
      if (verdict.throttled) return this.refuseThrottled(incoming, verdict.throttled);
      if (verdict.status === 403) this.gateway.floodLog.domainRefused('INVITE', domain.domainName, incoming.source);
      incoming.reject(verdict.status, { reason: verdict.status === 407 ? 'Proxy Authentication Required' : 'Forbidden', headers: verdict.headers });
      return;
    }
    if (!this.gateway.hasMediaCapacity()) {
      incoming.reject(503, { reason: 'Service Unavailable', headers: [RETRY_AFTER] });
      return;
    }
    const to = `${uri.scheme}:${uri.user === undefined ? '' : `${uri.user}@`}${domain.domainName}`;
    const params: Record<string, string> = {
      SipDomain: domain.domainName,
      SipDomainSid: domain.sid,
      SipCallId: incoming.request.headers.get('Call-ID') ?? '',
      SipSourceIp: incoming.source.host,
      ...customHeaders(incoming),
    };
    const leg = new SipInboundLeg(this.gateway, incoming);
    let routed: boolean;
    try {
      routed = await domains.route({ domain, to, from, leg, params });
    } catch (error) {
      this.gateway.log.warn({ err: error, domain: domain.domainName }, 'SIP: could not route a call to a domain');
      incoming.reject(500, { reason: 'Server Internal Error' });
      return;
    }
    if (!routed) incoming.reject(404, { reason: 'Not Found' });
  }

  /** A source outside the carrier networks refused (403 or 404, with a Warning): it spends its failure budget. */
  private refuseStranger(incoming: IncomingCall, status: 403 | 404, why: string, log: () => void): void {
    this.failures.spend(incoming.source.host);
    log();
    incoming.reject(status, { reason: status === 403 ? 'Forbidden' : 'Not Found', headers: [warning(why)] });
  }

  /** A source past its failure budget: 403 at once, one log line a minute for it. */
  private refuseThrottled(incoming: IncomingCall, throttled: Throttled): void {
    const source = incoming.source.host;
    if (throttled.report) {
      this.gateway.log.warn({ source, refused: throttled.refused }, `SIP: ${source} keeps failing (calls from outside the carrier networks, to domains not here or with wrong credentials); its calls are refused at once for a while (403), ${throttled.refused} since the last line`);
    }
    incoming.reject(403, { reason: 'Forbidden', headers: [warning(`too many failed requests from ${source}; try again later`)] });
  }
}

/** RFC 3261 §20.43: 399, a miscellaneous warning, with the agent and a text a person reads. */
function warning(text: string): readonly [string, string] {
  return ['Warning', `399 conclave "${text.replace(/["\\]/g, '')}"`];
}

function fromOf(incoming: IncomingCall): string {
  return incoming.from?.uri ?? 'sip:anonymous@anonymous.invalid';
}

/** Twilio passes the INVITE's custom headers (`X-…`) to the webhook as `SipHeader_X-…`. */
function customHeaders(incoming: IncomingCall): Record<string, string> {
  const params: Record<string, string> = {};
  for (const { name, value } of incoming.request.headers) if (/^x-/i.test(name)) params[`SipHeader_${name}`] = value;
  return params;
}

/** The user part of a URI with its %-escapes undone (RFC 3261 §19.1.2); a bad escape stays as written. */
function unescapeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** Whether the INVITE came over SIP over WebSocket (RFC 7118). */
function overWebSocket(incoming: IncomingCall): boolean {
  return incoming.source.transport === 'ws' || incoming.source.transport === 'wss';
}
