/**
 * The carrier trunk (issue 14 §4, CONCLAVE_SIP_TRUNK): how a call to an E.164 number is put to
 * the carrier. The INVITE's Request-URI and To are `sip:<number>@<trunk host[:port]>` with the
 * trunk URI's scheme and parameters (`sips:` and `;transport=` pick the transport, RFC 3261
 * §18.1.1; a host name is looked up as RFC 3263 says, as for any dialled URI), plus
 * `;user=phone`: RFC 3261 §19.1.6 says the user part is a telephone number only with it, and
 * IMS-style carriers and SBCs route on it (3GPP TS 24.229), while others ignore it.
 *
 * The caller ID (`From`, `CallerId`, `<Dial callerId>`) is the From user at our public address,
 * `sip:+15551234567@203.0.113.7;user=phone`, and the same identity goes in
 * P-Asserted-Identity (RFC 3325 §9.1), which carriers read for the presented number and from
 * a trusted trunk. The carrier's digest challenges (401 or 407, RFC 3261 §22.2) are answered
 * with the trunk's credentials.
 */
import type { SipTrunkConfig } from '../../config.js';
import { isE164 } from '../../domain/phone-number.js';
import { parseSipUri, serializeSipUri, type SipUri } from '../../sip/sip-uri.js';

/** What an INVITE through the trunk says, besides what every INVITE says. */
export interface TrunkInvite {
  /** Request-URI and To. */
  uri: string;
  /** From URI: the caller ID at our address. */
  from: string;
  headers: Array<readonly [string, string]>;
  auth?: { username: string; password: string };
}

/**
 * The user part a caller ID becomes: an E.164 number as it is; the user of a `sip:` URI (a SIP
 * caller's number, `sip:+1555…@pbx`); a `client:` or `sim:` name; characters a SIP user part
 * cannot carry unescaped dropped (RFC 3261 §25.1 `unreserved` and `+`).
 */
export function callerIdUser(callerId: string): string {
  const trimmed = callerId.trim();
  const sip = parseSipUri(trimmed);
  const user = sip ? (sip.user ?? '') : trimmed.replace(/^(client|sim):/, '').split(';')[0]!;
  return user.replace(/[^A-Za-z0-9+._~-]/g, '') || 'conclave';
}

export class SipTrunk {
  private readonly target: SipUri;

  constructor(private readonly config: SipTrunkConfig) {
    const target = parseSipUri(config.uri);
    // config.ts checked it; a trunk that is no SIP URI cannot be here.
    if (!target) throw new Error(`CONCLAVE_SIP_TRUNK=${config.uri} is not a SIP URI`);
    this.target = target;
  }

  /** The trunk's URI as configured, for log lines. */
  get uri(): string {
    return this.config.uri;
  }

  /** The INVITE for `number` (E.164) from `callerId`, our public address being `host`. */
  invite(number: string, callerId: string, host: string): TrunkInvite {
    const params = new Map(this.target.params);
    params.set('user', 'phone');
    const { scheme, host: trunkHost, port } = this.target;
    const uri = serializeSipUri({ scheme, user: number, host: trunkHost, ...(port !== undefined ? { port } : {}), params, headers: new Map() });
    const user = callerIdUser(callerId);
    const from = `sip:${user}@${host}${isE164(user) ? ';user=phone' : ''}`;
    return {
      uri,
      from,
      headers: [['P-Asserted-Identity', `<${from}>`]],
      ...(this.config.auth ? { auth: this.config.auth } : {}),
    };
  }
}
