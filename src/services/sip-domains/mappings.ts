/**
 * Lists mapped to a domain: credential lists for its calls (Auth/Calls/CredentialListMappings,
 * and the legacy Domains/{SD}/CredentialListMappings, which Twilio keeps as the same thing) or
 * for its registrations (Auth/Registrations/CredentialListMappings), IP access control lists
 * for its calls (Auth/Calls/IpAccessControlListMappings and the legacy
 * Domains/{SD}/IpAccessControlListMappings). A mapping is named by its list's SID; the domain
 * and the list must both be the account's.
 */
import type { PageRequest, PageResult } from '../../domain/paging.js';
import type { SipCredentialPurpose, SipListMapping } from '../../domain/sip-domain.js';
import { ConflictError, ResourceNotFound, RuleViolation } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { sipCredentialLists } from './credential-lists.js';
import { findSipDomainOf } from './domains.js';
import { sipIpAccessControlLists } from './ip-access-control-lists.js';
import { SipCode } from './sip-rules.js';

/** Which of a domain's mapping collections: credential lists for calls or registrations, or IP lists. */
export type SipMappingKind = SipCredentialPurpose | 'ip-access-control-lists';

function alreadyMapped(listSid: string, domainSid: string): RuleViolation {
  // Twilio's 21231 names this cause: "the IP Access Control List SID already being associated with the Domain".
  return new RuleViolation(SipCode.domainValidation, `${listSid} is already mapped to the domain ${domainSid}`);
}

export async function createSipMapping(ctx: ServiceContext, accountSid: string, domainSid: string, kind: SipMappingKind, listSid: string): Promise<SipListMapping> {
  await findSipDomainOf(ctx, accountSid, domainSid);
  const list = await (kind === 'ip-access-control-lists' ? sipIpAccessControlLists : sipCredentialLists).get(ctx, accountSid, listSid);
  const now = ctx.clock.now();
  const mapping: SipListMapping = { accountSid, domainSid, listSid, friendlyName: list.friendlyName, dateCreated: now, dateUpdated: now };
  try {
    if (kind === 'ip-access-control-lists') await ctx.store.insertSipIpAccessControlListMapping(mapping);
    else await ctx.store.insertSipCredentialListMapping(kind, mapping);
  } catch (error) {
    if (error instanceof ConflictError) throw alreadyMapped(listSid, domainSid);
    throw error;
  }
  return mapping;
}

export async function getSipMapping(ctx: ServiceContext, accountSid: string, domainSid: string, kind: SipMappingKind, listSid: string): Promise<SipListMapping> {
  await findSipDomainOf(ctx, accountSid, domainSid);
  const mapping =
    kind === 'ip-access-control-lists'
      ? await ctx.store.findSipIpAccessControlListMapping(domainSid, listSid)
      : await ctx.store.findSipCredentialListMapping(kind, domainSid, listSid);
  if (!mapping) throw new ResourceNotFound(`Mapping ${listSid}`);
  return mapping;
}

export async function deleteSipMapping(ctx: ServiceContext, accountSid: string, domainSid: string, kind: SipMappingKind, listSid: string): Promise<void> {
  await getSipMapping(ctx, accountSid, domainSid, kind, listSid);
  if (kind === 'ip-access-control-lists') await ctx.store.deleteSipIpAccessControlListMapping(domainSid, listSid);
  else await ctx.store.deleteSipCredentialListMapping(kind, domainSid, listSid);
}

export async function listSipMappings(
  ctx: ServiceContext,
  accountSid: string,
  domainSid: string,
  kind: SipMappingKind,
  page: PageRequest,
): Promise<PageResult<SipListMapping>> {
  await findSipDomainOf(ctx, accountSid, domainSid);
  return kind === 'ip-access-control-lists'
    ? ctx.store.listSipIpAccessControlListMappings(domainSid, page)
    : ctx.store.listSipCredentialListMappings(kind, domainSid, page);
}
