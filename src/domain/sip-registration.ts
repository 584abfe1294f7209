/**
 * A registered contact of a SIP Domain user (RFC 3261 §10.3): Conclave is the registrar of a
 * domain with `SipRegistration=true`, and a phone that signs in as `bob` binds the address of
 * record `sip:bob@<domain>` to its Contact until `expiresAt`. Kept in the store, so that any node
 * can ring the phone whichever node it registered with.
 */
export interface SipRegistration {
  domainSid: string;
  /** The authenticated username, which is the user part of the address of record. */
  username: string;
  /** The Contact URI as the phone wrote it (a binding is keyed by it, §10.3 step 6). */
  contact: string;
  /**
   * Where the REGISTER came from (RFC 3581 `received`/`rport`): behind a NAT the Contact names
   * an address nobody outside can reach, and this is the one that gets back to the phone.
   */
  sourceHost: string;
  sourcePort: number;
  sourceTransport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  /** §10.3 step 7: a REGISTER with the same Call-ID and a CSeq not above this one is out of order. */
  callId: string;
  cseq: number;
  /** Epoch ms; a binding past it is gone (ignored, then swept). */
  expiresAt: number;
  /** Epoch ms of the REGISTER that made or refreshed it: the most recent is tried first. */
  registeredAt: number;
  /**
   * The REGISTER's Path values in order (RFC 3327 §5.3), when it came through proxies (an edge
   * proxy such as Kamailio): a call to the binding carries them as its Route set and goes to the
   * first one, which reaches the phone however its NAT is. Absent for a phone that registered directly.
   */
  path?: string[];
}
