/**
 * Credential lists and credentials: every key of twilio-oai
 * `api.v2010.account.sip.sip_credential_list` and `…sip_credential_list.sip_credential`. A
 * credential shows its username, never its password (nor its HA1s).
 */
import type { SipCredential, SipCredentialList } from '../../domain/sip-credential.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { sipCredentialListPath } from './sip-paths.js';

export const sipCredentialListShape: ResourceShape<SipCredentialList> = {
  element: 'CredentialList',
  listElement: 'CredentialLists',
  listKey: 'credential_lists',
  nested: ['subresource_uris'],
  fields: [
    ['account_sid', (l) => l.accountSid],
    ['date_created', (l) => formatRfc2822(l.dateCreated)],
    ['date_updated', (l) => formatRfc2822(l.dateUpdated)],
    ['friendly_name', (l) => l.friendlyName],
    ['sid', (l) => l.sid],
    ['subresource_uris', (l, suffix) => ({ credentials: `${sipCredentialListPath(l.accountSid, l.sid)}/Credentials${suffix}` })],
    ['uri', (l, suffix) => sipCredentialListPath(l.accountSid, l.sid) + suffix],
  ],
};

export const sipCredentialShape: ResourceShape<SipCredential> = {
  element: 'Credential',
  listElement: 'Credentials',
  listKey: 'credentials',
  fields: [
    ['sid', (c) => c.sid],
    ['account_sid', (c) => c.accountSid],
    ['credential_list_sid', (c) => c.credentialListSid],
    ['username', (c) => c.username],
    ['date_created', (c) => formatRfc2822(c.dateCreated)],
    ['date_updated', (c) => formatRfc2822(c.dateUpdated)],
    ['uri', (c, suffix) => `${sipCredentialListPath(c.accountSid, c.credentialListSid)}/Credentials/${c.sid}${suffix}`],
  ],
};
