/**
 * A SIP Domain (twilio-oai `api.v2010.account.sip.sip_domain`): the host name SIP requests are
 * addressed to (the host of the Request-URI, `sip:alice@acme.example`), whose VoiceUrl answers
 * the calls that its mappings let in. On Twilio a domain name must end in `.sip.twilio.com`;
 * on Conclave it is any DNS name a user points at the bridge, unique across the deployment
 * since requests are routed by it.
 */
import type { HttpMethod } from './call.js';

export interface SipDomain {
  sid: string;
  accountSid: string;
  /** Lower case: host names compare without regard to case (RFC 3261 §19.1.4). */
  domainName: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: HttpMethod;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: HttpMethod;
  voiceStatusCallbackUrl: string | null;
  voiceStatusCallbackMethod: HttpMethod;
  /** Conclave is the registrar of the domain, for its registration credential mappings. */
  sipRegistration: boolean;
  /** Calls to and from the domain must use SRTP (and TLS). */
  secure: boolean;
  dateCreated: number;
  dateUpdated: number;
}

/**
 * The two ways a domain's mappings let calls in, as Twilio's `auth_type` names them; derived
 * from its call mappings, never stored.
 */
export interface SipDomainAuth {
  ipAccessControlList: boolean;
  credentialList: boolean;
}

/** Twilio's `auth_type`: `IP_ACL`, `CREDENTIAL_LIST`, both comma-separated, or null with neither. */
export function authTypeOf(auth: SipDomainAuth): string | null {
  const kinds = [auth.ipAccessControlList ? 'IP_ACL' : undefined, auth.credentialList ? 'CREDENTIAL_LIST' : undefined].filter((k) => k !== undefined);
  return kinds.length === 0 ? null : kinds.join(',');
}

/** What a credential list is mapped to a domain for: its calls (INVITE) or its registrations (REGISTER). */
export type SipCredentialPurpose = 'calls' | 'registrations';

/**
 * A list mapped to a domain (Twilio's mapping resources): its SID is the list's own (CL or
 * AL), its friendly name the list's.
 */
export interface SipListMapping {
  accountSid: string;
  domainSid: string;
  listSid: string;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}
