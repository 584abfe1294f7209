/**
 * IP access control lists and their addresses (twilio-oai
 * `api.v2010.account.sip.sip_ip_access_control_list` and `…sip_ip_address`): the sources a
 * domain mapped to the list accepts calls from without a password.
 */

export interface SipIpAccessControlList {
  sid: string;
  accountSid: string;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface SipIpAddress {
  sid: string;
  accountSid: string;
  ipAccessControlListSid: string;
  friendlyName: string;
  /** An IPv4 (dotted decimal) or IPv6 address, in its canonical form. */
  ipAddress: string;
  /** How many leading bits of `ipAddress` a source must share: 32 (IPv4) or 128 (IPv6) is that address only. */
  cidrPrefixLength: number;
  dateCreated: number;
  dateUpdated: number;
}
