/**
 * The SIP Domain resource: every key of twilio-oai `api.v2010.account.sip.sip_domain`, in its
 * order. Emergency calling and BYOC trunks do not exist on Conclave: false and null.
 */
import type { SipDomainView } from '../../services/sip-domains/domains.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { sipDomainPath } from './sip-paths.js';

export const sipDomainShape: ResourceShape<SipDomainView> = {
  element: 'Domain',
  listElement: 'Domains',
  listKey: 'domains',
  nested: ['subresource_uris'],
  fields: [
    ['account_sid', (d) => d.accountSid],
    ['api_version', () => '2010-04-01'],
    ['auth_type', (d) => d.authType],
    ['date_created', (d) => formatRfc2822(d.dateCreated)],
    ['date_updated', (d) => formatRfc2822(d.dateUpdated)],
    ['domain_name', (d) => d.domainName],
    ['friendly_name', (d) => d.friendlyName],
    ['sid', (d) => d.sid],
    ['uri', (d, suffix) => sipDomainPath(d.accountSid, d.sid) + suffix],
    ['voice_fallback_method', (d) => d.voiceFallbackMethod],
    ['voice_fallback_url', (d) => d.voiceFallbackUrl],
    ['voice_method', (d) => d.voiceMethod],
    ['voice_status_callback_method', (d) => d.voiceStatusCallbackMethod],
    ['voice_status_callback_url', (d) => d.voiceStatusCallbackUrl],
    ['voice_url', (d) => d.voiceUrl],
    [
      'subresource_uris',
      (d, suffix) => ({
        ip_access_control_list_mappings: `${sipDomainPath(d.accountSid, d.sid)}/IpAccessControlListMappings${suffix}`,
        credential_list_mappings: `${sipDomainPath(d.accountSid, d.sid)}/CredentialListMappings${suffix}`,
      }),
    ],
    ['sip_registration', (d) => d.sipRegistration],
    ['emergency_calling_enabled', () => false],
    ['secure', (d) => d.secure],
    ['byoc_trunk_sid', () => null],
    ['emergency_caller_sid', () => null],
  ],
};
