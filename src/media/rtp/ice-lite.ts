/**
 * The lite ICE agent of a WebRTC leg (RFC 8445 §2.5): it never sends checks, it answers the
 * peer's STUN Binding requests (RFC 5389) and learns from them where the peer is.
 *
 * - A request is authenticated with short-term credentials (RFC 8445 §7.3, RFC 5389 §10.1):
 *   USERNAME is `<our ufrag>:<peer ufrag>` and MESSAGE-INTEGRITY is HMAC-SHA1 keyed by OUR pwd.
 *   The peer's ufrag may be unknown yet (its answer to our offer is still on its way while its
 *   checks already arrive): then only our half is checked, and the integrity vouches for it.
 * - Success response: XOR-MAPPED-ADDRESS (where we saw it come from), MESSAGE-INTEGRITY (our
 *   pwd), FINGERPRINT (RFC 8445 §7.3.1.1).
 * - Error responses (RFC 5389 §10.1.2): 400 when USERNAME or MESSAGE-INTEGRITY is missing,
 *   401 when the username is not ours or the integrity fails; neither carries MESSAGE-INTEGRITY
 *   (there is no key the peer could check it with), and neither latches anything. Anything
 *   that is not a well-formed Binding request (responses, indications, a bad FINGERPRINT) is
 *   dropped silently.
 * - The address of a valid request is a validated candidate pair's remote side; the first one
 *   is used until the controlling peer nominates one (USE-CANDIDATE, RFC 8445 §7.3.1.5), which
 *   then wins; a later nomination from elsewhere (the peer moved, ICE renominated) moves it.
 * - Consent freshness checks (RFC 7675) are Binding requests like the others: answered, and
 *   never counted as media (they do not hold off the RTP timeout).
 *
 * STUN parsing and building are werift-ice's (a dependency): its Message parser checks
 * FINGERPRINT and, given our key, MESSAGE-INTEGRITY; it costs a few allocations per request,
 * which is fine at ICE's rate (a handful at setup, then one every few seconds). Its deep import
 * path is used because the package's main entry starts a whole ICE stack we do not need.
 */
import { Message, parseMessage } from 'werift-ice/lib/ice-server/src/stun/message.js';
import { classes, methods } from 'werift-ice/lib/ice-server/src/stun/const.js';
import type { IceCredentials } from '../protocol.js';

/** What one STUN datagram came to. */
export interface StunOutcome {
  /** The response to send back to the datagram's source, or null (dropped). */
  reply: Buffer | null;
  /** The request was authentic: its source is a validated remote candidate. */
  valid: boolean;
  /** The peer nominated this pair (USE-CANDIDATE). */
  nominated: boolean;
}

const DROPPED: StunOutcome = { reply: null, valid: false, nominated: false };

export class IceLite {
  private readonly key: Buffer;

  constructor(
    readonly local: IceCredentials,
    public remote: IceCredentials | null,
  ) {
    this.key = Buffer.from(local.pwd, 'utf8');
  }

  /** Answers one STUN datagram (first octet 0–3, RFC 7983) from `address:port`. */
  handle(datagram: Uint8Array, address: string, port: number): StunOutcome {
    const data = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
    // First without the key: a malformed message (or a bad FINGERPRINT) is dropped, and a
    // request is told apart from a response before any HMAC is spent.
    const plain = safeParse(data);
    if (plain === undefined || plain.messageMethod !== methods.BINDING || plain.messageClass !== classes.REQUEST) return DROPPED;
    const username = plain.getAttributeValue('USERNAME') as string | undefined;
    if (username === undefined || plain.getAttributeValue('MESSAGE-INTEGRITY') === undefined) return this.error(plain, 400, 'Bad Request');
    if (!this.ourUsername(username)) return this.error(plain, 401, 'Unauthorized');
    const request = safeParse(data, this.key);
    if (request === undefined) return this.error(plain, 401, 'Unauthorized');
    const response = new Message(methods.BINDING, classes.RESPONSE, request.transactionId);
    response.setAttribute('XOR-MAPPED-ADDRESS', [address, port]);
    response.addMessageIntegrity(this.key);
    response.addFingerprint();
    return { reply: response.bytes, valid: true, nominated: request.getAttributeValue('USE-CANDIDATE') !== undefined };
  }

  /** `<our ufrag>:<peer ufrag>` (RFC 8445 §7.2.2); the peer's half is checked once we know it. */
  private ourUsername(username: string): boolean {
    const colon = username.indexOf(':');
    if (colon < 0 || username.slice(0, colon) !== this.local.ufrag) return false;
    return this.remote === null || username.slice(colon + 1) === this.remote.ufrag;
  }

  private error(request: Message, code: number, reason: string): StunOutcome {
    const response = new Message(methods.BINDING, classes.ERROR, request.transactionId);
    response.setAttribute('ERROR-CODE', [code, reason]);
    response.addFingerprint();
    return { reply: response.bytes, valid: false, nominated: false };
  }
}

function safeParse(data: Buffer, key?: Buffer): Message | undefined {
  try {
    return parseMessage(data, key);
  } catch {
    return undefined;
  }
}
