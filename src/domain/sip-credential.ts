/**
 * Credential lists and their credentials (twilio-oai `api.v2010.account.sip.sip_credential_list`
 * and `…sip_credential`). A password is never kept: a credential holds only what digest
 * authentication needs to check a response, HA1 = H(username ":" realm ":" password) with MD5
 * (RFC 2617 §3.2.2.2) and SHA-256 (RFC 7616 §3.4.2, RFC 8760 for SIP), like Twilio, which
 * stores the MD5 hash "in accordance with the digest authentication specification".
 */

/**
 * The digest realm of every Conclave challenge. HA1 depends on the realm, and a credential is
 * written (the password seen once) before it is mapped to any domain, to any number of them,
 * whose names can change later: a realm per domain could not be hashed for. Twilio likewise
 * challenges every domain with one realm, `sip.twilio.com`. Stored beside each HA1 so that a
 * credential hashed for another realm is recognised rather than silently failing.
 */
export const SIP_DIGEST_REALM = 'conclave';

export interface SipCredentialList {
  sid: string;
  accountSid: string;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface SipCredential {
  sid: string;
  accountSid: string;
  credentialListSid: string;
  /** Unique within its list. */
  username: string;
  /** The realm the HA1s were computed for. */
  realm: string;
  /** MD5(username:realm:password), lower-case hex. */
  ha1Md5: string;
  /** SHA-256(username:realm:password), lower-case hex. */
  ha1Sha256: string;
  dateCreated: number;
  dateUpdated: number;
}
