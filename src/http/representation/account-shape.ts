/**
 * The Account resource (twilio-oai `api.v2010.account`) and the API key resources
 * (`api.v2010.account.key`, and `new_key` whose `secret` is shown only at creation).
 * `subresource_uris` lists the subresources Conclave serves.
 */
import type { Account, ApiKey } from '../../domain/model.js';
import type { ResourceShape } from './resource-shape.js';
import { formatRfc2822 } from './rfc2822.js';
import { accountPath } from './uris.js';

export const accountShape: ResourceShape<Account> = {
  element: 'Account',
  listElement: 'Accounts',
  listKey: 'accounts',
  nested: ['subresource_uris'],
  fields: [
    ['auth_token', (a) => a.authToken],
    ['date_created', (a) => formatRfc2822(a.dateCreated)],
    ['date_updated', (a) => formatRfc2822(a.dateUpdated)],
    ['friendly_name', (a) => a.friendlyName],
    ['owner_account_sid', (a) => a.ownerAccountSid],
    ['sid', (a) => a.sid],
    ['status', (a) => a.status],
    [
      'subresource_uris',
      (a, suffix) => ({
        applications: `${accountPath(a.sid)}/Applications${suffix}`,
        calls: `${accountPath(a.sid)}/Calls${suffix}`,
        conferences: `${accountPath(a.sid)}/Conferences${suffix}`,
        incoming_phone_numbers: `${accountPath(a.sid)}/IncomingPhoneNumbers${suffix}`,
        keys: `${accountPath(a.sid)}/Keys${suffix}`,
      }),
    ],
    ['type', () => 'Full'],
    ['uri', (a, suffix) => accountPath(a.sid) + suffix],
  ],
};

export const keyShape: ResourceShape<ApiKey> = {
  element: 'Key',
  listElement: 'Keys',
  listKey: 'keys',
  fields: [
    ['sid', (k) => k.sid],
    ['friendly_name', (k) => k.friendlyName],
    ['date_created', (k) => formatRfc2822(k.dateCreated)],
    ['date_updated', (k) => formatRfc2822(k.dateUpdated)],
  ],
};

/** A key just made, with its secret: the only time the secret is ever shown. */
export function newKeyShape(secret: string): ResourceShape<ApiKey> {
  return { ...keyShape, fields: [...keyShape.fields, ['secret', () => secret]] };
}
