/**
 * Lists mapped to SIP domains: credential lists for calls or for registrations, IP access
 * control lists for calls. A mapping is named by its list's SID and shown with its list's
 * friendly name, read from the list after the page (one query per page, not a join that
 * would make `seq` ambiguous to the pager).
 */
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { SipCredentialPurpose, SipListMapping } from '../domain/sip-domain.js';
import { ConflictError } from '../errors.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import type { SipListTable } from './sip-lists-queries.js';
import { toSipListMapping } from './sip-row-mapping.js';
import { uniqueViolation } from './unique-violations.js';

/** Runs the insert; a unique violation means the list is mapped already. */
async function insertOnce(mapping: SipListMapping, insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw new ConflictError('sid', `${mapping.listSid} is already mapped to ${mapping.domainSid}`);
    throw error;
  }
}

async function friendlyNames({ db }: QueryContext, table: SipListTable, sids: readonly string[]): Promise<Map<string, string>> {
  if (sids.length === 0) return new Map();
  const rows = await db.selectFrom(table).select(['sid', 'friendly_name']).where('sid', 'in', [...sids]).execute();
  return new Map(rows.map((r) => [r.sid, r.friendly_name]));
}

/** Fills in each mapping's friendly name from its list (the store deletes mappings with their list). */
async function named(ctx: QueryContext, table: SipListTable, page: PageResult<SipListMapping>): Promise<PageResult<SipListMapping>> {
  const names = await friendlyNames(ctx, table, page.items.map((m) => m.listSid));
  return { ...page, items: page.items.map((m) => ({ ...m, friendlyName: names.get(m.listSid) ?? '' })) };
}

export function insertSipCredentialListMapping({ db }: QueryContext, purpose: SipCredentialPurpose, mapping: SipListMapping): Promise<void> {
  return insertOnce(mapping, () =>
    db
      .insertInto('sip_domain_credential_lists')
      .values({
        account_sid: mapping.accountSid,
        domain_sid: mapping.domainSid,
        credential_list_sid: mapping.listSid,
        purpose,
        date_created: mapping.dateCreated,
        date_updated: mapping.dateUpdated,
      })
      .execute(),
  );
}

export async function findSipCredentialListMapping(
  ctx: QueryContext,
  purpose: SipCredentialPurpose,
  domainSid: string,
  credentialListSid: string,
): Promise<SipListMapping | undefined> {
  const row = await ctx.db
    .selectFrom('sip_domain_credential_lists')
    .selectAll()
    .where('domain_sid', '=', domainSid)
    .where('purpose', '=', purpose)
    .where('credential_list_sid', '=', credentialListSid)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const names = await friendlyNames(ctx, 'sip_credential_lists', [credentialListSid]);
  return toSipListMapping(row, credentialListSid, names.get(credentialListSid) ?? '');
}

export async function deleteSipCredentialListMapping(
  { db }: QueryContext,
  purpose: SipCredentialPurpose,
  domainSid: string,
  credentialListSid: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('sip_domain_credential_lists')
    .where('domain_sid', '=', domainSid)
    .where('purpose', '=', purpose)
    .where('credential_list_sid', '=', credentialListSid)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listSipCredentialListMappings(
  ctx: QueryContext,
  purpose: SipCredentialPurpose,
  domainSid: string,
  page: PageRequest,
): Promise<PageResult<SipListMapping>> {
  const query = ctx.db.selectFrom('sip_domain_credential_lists').where('domain_sid', '=', domainSid).where('purpose', '=', purpose);
  const result = await fetchPage(query, 'asc', page, (r) => toSipListMapping(r, r.credential_list_sid, ''));
  return named(ctx, 'sip_credential_lists', result);
}

export function insertSipIpAccessControlListMapping({ db }: QueryContext, mapping: SipListMapping): Promise<void> {
  return insertOnce(mapping, () =>
    db
      .insertInto('sip_domain_ip_access_control_lists')
      .values({
        account_sid: mapping.accountSid,
        domain_sid: mapping.domainSid,
        ip_access_control_list_sid: mapping.listSid,
        date_created: mapping.dateCreated,
        date_updated: mapping.dateUpdated,
      })
      .execute(),
  );
}

export async function findSipIpAccessControlListMapping(ctx: QueryContext, domainSid: string, aclSid: string): Promise<SipListMapping | undefined> {
  const row = await ctx.db
    .selectFrom('sip_domain_ip_access_control_lists')
    .selectAll()
    .where('domain_sid', '=', domainSid)
    .where('ip_access_control_list_sid', '=', aclSid)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const names = await friendlyNames(ctx, 'sip_ip_access_control_lists', [aclSid]);
  return toSipListMapping(row, aclSid, names.get(aclSid) ?? '');
}

export async function deleteSipIpAccessControlListMapping({ db }: QueryContext, domainSid: string, aclSid: string): Promise<boolean> {
  const result = await db
    .deleteFrom('sip_domain_ip_access_control_lists')
    .where('domain_sid', '=', domainSid)
    .where('ip_access_control_list_sid', '=', aclSid)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listSipIpAccessControlListMappings(ctx: QueryContext, domainSid: string, page: PageRequest): Promise<PageResult<SipListMapping>> {
  const query = ctx.db.selectFrom('sip_domain_ip_access_control_lists').where('domain_sid', '=', domainSid);
  const result = await fetchPage(query, 'asc', page, (r) => toSipListMapping(r, r.ip_access_control_list_sid, ''));
  return named(ctx, 'sip_ip_access_control_lists', result);
}
