/**
 * IP access control lists and their addresses: every key of twilio-oai
 * `api.v2010.account.sip.sip_ip_access_control_list` and `…sip_ip_access_control_list.sip_ip_address`.
 */
import type { SipIpAccessControlList, SipIpAddress } from '../../domain/sip-ip-access.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { sipIpAccessControlListPath } from './sip-paths.js';

export const sipIpAccessControlListShape: ResourceShape<SipIpAccessControlList> = {
  element: 'IpAccessControlList',
  listElement: 'IpAccessControlLists',
  listKey: 'ip_access_control_lists',
  nested: ['subresource_uris'],
  fields: [
    ['sid', (l) => l.sid],
    ['account_sid', (l) => l.accountSid],
    ['friendly_name', (l) => l.friendlyName],
    ['date_created', (l) => formatRfc2822(l.dateCreated)],
    ['date_updated', (l) => formatRfc2822(l.dateUpdated)],
    ['subresource_uris', (l, suffix) => ({ ip_addresses: `${sipIpAccessControlListPath(l.accountSid, l.sid)}/IpAddresses${suffix}` })],
    ['uri', (l, suffix) => sipIpAccessControlListPath(l.accountSid, l.sid) + suffix],
  ],
};

export const sipIpAddressShape: ResourceShape<SipIpAddress> = {
  element: 'IpAddress',
  listElement: 'IpAddresses',
  listKey: 'ip_addresses',
  fields: [
    ['sid', (a) => a.sid],
    ['account_sid', (a) => a.accountSid],
    ['friendly_name', (a) => a.friendlyName],
    ['ip_address', (a) => a.ipAddress],
    ['cidr_prefix_length', (a) => a.cidrPrefixLength],
    ['ip_access_control_list_sid', (a) => a.ipAccessControlListSid],
    ['date_created', (a) => formatRfc2822(a.dateCreated)],
    ['date_updated', (a) => formatRfc2822(a.dateUpdated)],
    ['uri', (a, suffix) => `${sipIpAccessControlListPath(a.accountSid, a.ipAccessControlListSid)}/IpAddresses/${a.sid}${suffix}`],
  ],
};
