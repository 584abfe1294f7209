/**
 * A list mapped to a SIP domain, in its two forms. The legacy mappings
 * (`/SIP/Domains/{SD}/CredentialListMappings`, `…/IpAccessControlListMappings`; twilio-oai
 * `…sip_domain.sip_credential_list_mapping` and `…sip_ip_access_control_list_mapping`) carry
 * `domain_sid` and `uri`; the `Auth/Calls` and `Auth/Registrations` ones
 * (`…sip_auth_calls_credential_list_mapping` and the like) list theirs under `contents` with
 * five keys only. Each is named by its list's SID and shows its list's friendly name.
 */
import type { SipListMapping } from '../../domain/sip-domain.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { sipDomainPath } from './sip-paths.js';

/** `collection`: where the mappings live below the domain (`CredentialListMappings`, `IpAccessControlListMappings`). */
export function legacyMappingShape(element: 'CredentialListMapping' | 'IpAccessControlListMapping', collection: string): ResourceShape<SipListMapping> {
  return {
    element,
    listElement: `${element}s`,
    listKey: element === 'CredentialListMapping' ? 'credential_list_mappings' : 'ip_access_control_list_mappings',
    fields: [
      ['account_sid', (m) => m.accountSid],
      ['date_created', (m) => formatRfc2822(m.dateCreated)],
      ['date_updated', (m) => formatRfc2822(m.dateUpdated)],
      ['domain_sid', (m) => m.domainSid],
      ['friendly_name', (m) => m.friendlyName],
      ['sid', (m) => m.listSid],
      ['uri', (m, suffix) => `${sipDomainPath(m.accountSid, m.domainSid)}/${collection}/${m.listSid}${suffix}`],
    ],
  };
}

export function authMappingShape(element: 'CredentialListMapping' | 'IpAccessControlListMapping'): ResourceShape<SipListMapping> {
  return {
    element,
    listElement: 'Contents',
    listKey: 'contents',
    fields: [
      ['account_sid', (m) => m.accountSid],
      ['date_created', (m) => formatRfc2822(m.dateCreated)],
      ['date_updated', (m) => formatRfc2822(m.dateUpdated)],
      ['friendly_name', (m) => m.friendlyName],
      ['sid', (m) => m.listSid],
    ],
  };
}
