/**
 * The entries of SIP lists: credentials (a username's HA1s) and IP addresses; oldest first
 * within their list. Also what a SIP request to a domain reads: a username's credentials in
 * the lists mapped to the domain, and the addresses of the IP lists mapped to it.
 */
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { SipCredential } from '../domain/sip-credential.js';
import type { SipCredentialPurpose } from '../domain/sip-domain.js';
import type { SipIpAddress } from '../domain/sip-ip-access.js';
import { ConflictError } from '../errors.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { rowToSipCredential, rowToSipIpAddress, sipCredentialToRow, sipIpAddressToRow } from './sip-row-mapping.js';
import { uniqueViolation } from './unique-violations.js';

export async function insertSipCredential({ db }: QueryContext, credential: SipCredential): Promise<void> {
  try {
    await db.insertInto('sip_credentials').values(sipCredentialToRow(credential)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `The username ${credential.username} is already in the list`);
    throw error;
  }
}

export async function findSipCredential({ db }: QueryContext, credentialListSid: string, sid: string): Promise<SipCredential | undefined> {
  const row = await db.selectFrom('sip_credentials').selectAll().where('sid', '=', sid).where('credential_list_sid', '=', credentialListSid).executeTakeFirst();
  return row === undefined ? undefined : rowToSipCredential(row);
}

export async function updateSipCredential({ db }: QueryContext, credential: SipCredential): Promise<void> {
  const { sid, ...changes } = sipCredentialToRow(credential);
  await db.updateTable('sip_credentials').set(changes).where('sid', '=', sid).execute();
}

export async function deleteSipCredential({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('sip_credentials').where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listSipCredentials({ db }: QueryContext, credentialListSid: string, page: PageRequest): Promise<PageResult<SipCredential>> {
  return fetchPage(db.selectFrom('sip_credentials').where('credential_list_sid', '=', credentialListSid), 'asc', page, rowToSipCredential);
}

export async function findSipDomainCredentials(
  { db }: QueryContext,
  domainSid: string,
  purpose: SipCredentialPurpose,
  username: string,
): Promise<SipCredential[]> {
  const rows = await db
    .selectFrom('sip_credentials')
    .selectAll('sip_credentials')
    .where('sip_credentials.username', '=', username)
    .where((eb) =>
      eb(
        'sip_credentials.credential_list_sid',
        'in',
        eb.selectFrom('sip_domain_credential_lists').select('credential_list_sid').where('domain_sid', '=', domainSid).where('purpose', '=', purpose),
      ),
    )
    .orderBy('sip_credentials.seq', 'asc')
    .execute();
  return rows.map(rowToSipCredential);
}

export async function insertSipIpAddress({ db }: QueryContext, address: SipIpAddress): Promise<void> {
  await db.insertInto('sip_ip_addresses').values(sipIpAddressToRow(address)).execute();
}

export async function findSipIpAddress({ db }: QueryContext, aclSid: string, sid: string): Promise<SipIpAddress | undefined> {
  const row = await db.selectFrom('sip_ip_addresses').selectAll().where('sid', '=', sid).where('ip_access_control_list_sid', '=', aclSid).executeTakeFirst();
  return row === undefined ? undefined : rowToSipIpAddress(row);
}

export async function updateSipIpAddress({ db }: QueryContext, address: SipIpAddress): Promise<void> {
  const { sid, ...changes } = sipIpAddressToRow(address);
  await db.updateTable('sip_ip_addresses').set(changes).where('sid', '=', sid).execute();
}

export async function deleteSipIpAddress({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('sip_ip_addresses').where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listSipIpAddresses({ db }: QueryContext, aclSid: string, page: PageRequest): Promise<PageResult<SipIpAddress>> {
  return fetchPage(db.selectFrom('sip_ip_addresses').where('ip_access_control_list_sid', '=', aclSid), 'asc', page, rowToSipIpAddress);
}

export async function listSipDomainIpAddresses({ db }: QueryContext, domainSid: string): Promise<SipIpAddress[]> {
  const rows = await db
    .selectFrom('sip_ip_addresses')
    .selectAll()
    .where((eb) =>
      eb(
        'ip_access_control_list_sid',
        'in',
        eb.selectFrom('sip_domain_ip_access_control_lists').select('ip_access_control_list_sid').where('domain_sid', '=', domainSid),
      ),
    )
    .orderBy('seq', 'asc')
    .execute();
  return rows.map(rowToSipIpAddress);
}
