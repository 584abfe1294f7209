/**
 * SIP domains: oldest first, scoped to the account; found by name for routing SIP requests
 * (names are stored in lower case); Twilio's `auth_type` derived from the call mappings.
 */
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { SipDomain, SipDomainAuth } from '../domain/sip-domain.js';
import { ConflictError } from '../errors.js';
import { fetchPage } from './paging-queries.js';
import type { QueryContext } from './query-context.js';
import { rowToSipDomain, sipDomainToRow } from './sip-row-mapping.js';
import { uniqueViolation } from './unique-violations.js';

function nameTaken(domain: SipDomain): ConflictError {
  return new ConflictError('sid', `The domain name ${domain.domainName} is already in use`);
}

export async function insertSipDomain({ db }: QueryContext, domain: SipDomain): Promise<void> {
  try {
    await db.insertInto('sip_domains').values(sipDomainToRow(domain)).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw nameTaken(domain);
    throw error;
  }
}

export async function findSipDomain({ db }: QueryContext, accountSid: string, sid: string): Promise<SipDomain | undefined> {
  const row = await db.selectFrom('sip_domains').selectAll().where('sid', '=', sid).where('account_sid', '=', accountSid).executeTakeFirst();
  return row === undefined ? undefined : rowToSipDomain(row);
}

export async function findSipDomainByName({ db }: QueryContext, domainName: string): Promise<SipDomain | undefined> {
  const row = await db.selectFrom('sip_domains').selectAll().where('domain_name', '=', domainName).executeTakeFirst();
  return row === undefined ? undefined : rowToSipDomain(row);
}

export async function updateSipDomain({ db }: QueryContext, domain: SipDomain): Promise<void> {
  const { sid, ...changes } = sipDomainToRow(domain);
  try {
    await db.updateTable('sip_domains').set(changes).where('sid', '=', sid).execute();
  } catch (error) {
    if (uniqueViolation(error) !== undefined) throw nameTaken(domain);
    throw error;
  }
}

export async function deleteSipDomain({ db }: QueryContext, sid: string): Promise<boolean> {
  const result = await db.deleteFrom('sip_domains').where('sid', '=', sid).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listSipDomains({ db }: QueryContext, accountSid: string, page: PageRequest): Promise<PageResult<SipDomain>> {
  return fetchPage(db.selectFrom('sip_domains').where('account_sid', '=', accountSid), 'asc', page, rowToSipDomain);
}

export async function findSipDomainAuth({ db }: QueryContext, domainSids: readonly string[]): Promise<Map<string, SipDomainAuth>> {
  const auth = new Map<string, SipDomainAuth>(domainSids.map((sid) => [sid, { ipAccessControlList: false, credentialList: false }]));
  if (domainSids.length === 0) return auth;
  const [credentials, acls] = await Promise.all([
    db
      .selectFrom('sip_domain_credential_lists')
      .select('domain_sid')
      .distinct()
      .where('domain_sid', 'in', [...domainSids])
      .where('purpose', '=', 'calls')
      .execute(),
    db.selectFrom('sip_domain_ip_access_control_lists').select('domain_sid').distinct().where('domain_sid', 'in', [...domainSids]).execute(),
  ]);
  for (const { domain_sid } of credentials) auth.get(domain_sid)!.credentialList = true;
  for (const { domain_sid } of acls) auth.get(domain_sid)!.ipAccessControlList = true;
  return auth;
}
