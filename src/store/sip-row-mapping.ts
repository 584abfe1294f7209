/** Rows <-> records for the SIP domain tables, field by field like row-mapping.ts. */
import type { SipCredential } from '../domain/sip-credential.js';
import type { SipDomain, SipListMapping } from '../domain/sip-domain.js';
import type { SipIpAddress } from '../domain/sip-ip-access.js';
import type { Insertable } from './row-mapping.js';
import type { Selectable } from 'kysely';
import type { SipCredentialsTable, SipDomainsTable, SipIpAddressesTable, SipListsTable } from './sip-schema.js';

/** Credential lists and IP access control lists alike. */
export interface SipList {
  sid: string;
  accountSid: string;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

export function sipDomainToRow(d: SipDomain): Insertable<SipDomainsTable> {
  return {
    sid: d.sid,
    account_sid: d.accountSid,
    domain_name: d.domainName,
    friendly_name: d.friendlyName,
    voice_url: d.voiceUrl,
    voice_method: d.voiceMethod,
    voice_fallback_url: d.voiceFallbackUrl,
    voice_fallback_method: d.voiceFallbackMethod,
    voice_status_callback_url: d.voiceStatusCallbackUrl,
    voice_status_callback_method: d.voiceStatusCallbackMethod,
    sip_registration: d.sipRegistration ? 1 : 0,
    secure: d.secure ? 1 : 0,
    date_created: d.dateCreated,
    date_updated: d.dateUpdated,
  };
}

export function rowToSipDomain(r: Selectable<SipDomainsTable>): SipDomain {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    domainName: r.domain_name,
    friendlyName: r.friendly_name,
    voiceUrl: r.voice_url,
    voiceMethod: r.voice_method,
    voiceFallbackUrl: r.voice_fallback_url,
    voiceFallbackMethod: r.voice_fallback_method,
    voiceStatusCallbackUrl: r.voice_status_callback_url,
    voiceStatusCallbackMethod: r.voice_status_callback_method,
    sipRegistration: r.sip_registration === 1,
    secure: r.secure === 1,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

export function sipListToRow(l: SipList): Insertable<SipListsTable> {
  return { sid: l.sid, account_sid: l.accountSid, friendly_name: l.friendlyName, date_created: l.dateCreated, date_updated: l.dateUpdated };
}

export function rowToSipList(r: Selectable<SipListsTable>): SipList {
  return { sid: r.sid, accountSid: r.account_sid, friendlyName: r.friendly_name, dateCreated: r.date_created, dateUpdated: r.date_updated };
}

export function sipCredentialToRow(c: SipCredential): Insertable<SipCredentialsTable> {
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    credential_list_sid: c.credentialListSid,
    username: c.username,
    realm: c.realm,
    ha1_md5: c.ha1Md5,
    ha1_sha256: c.ha1Sha256,
    date_created: c.dateCreated,
    date_updated: c.dateUpdated,
  };
}

export function rowToSipCredential(r: Selectable<SipCredentialsTable>): SipCredential {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    credentialListSid: r.credential_list_sid,
    username: r.username,
    realm: r.realm,
    ha1Md5: r.ha1_md5,
    ha1Sha256: r.ha1_sha256,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

export function sipIpAddressToRow(a: SipIpAddress): Insertable<SipIpAddressesTable> {
  return {
    sid: a.sid,
    account_sid: a.accountSid,
    ip_access_control_list_sid: a.ipAccessControlListSid,
    friendly_name: a.friendlyName,
    ip_address: a.ipAddress,
    cidr_prefix_length: a.cidrPrefixLength,
    date_created: a.dateCreated,
    date_updated: a.dateUpdated,
  };
}

export function rowToSipIpAddress(r: Selectable<SipIpAddressesTable>): SipIpAddress {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    ipAccessControlListSid: r.ip_access_control_list_sid,
    friendlyName: r.friendly_name,
    ipAddress: r.ip_address,
    cidrPrefixLength: r.cidr_prefix_length,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

/** A mapping row with its list's friendly name. */
export function toSipListMapping(
  r: { account_sid: string; domain_sid: string; date_created: number; date_updated: number },
  listSid: string,
  friendlyName: string,
): SipListMapping {
  return { accountSid: r.account_sid, domainSid: r.domain_sid, listSid, friendlyName, dateCreated: r.date_created, dateUpdated: r.date_updated };
}
