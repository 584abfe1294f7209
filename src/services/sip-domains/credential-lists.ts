/**
 * Credential lists (named-lists.ts) and their credentials (twilio-oai *SipCredentialList, *SipCredential). A
 * password is checked against Twilio's rule, hashed into the HA1s of Conclave's one realm
 * (domain/sip-credential.ts) and dropped: it is never stored, logged or returned.
 */
import type { PageRequest, PageResult } from '../../domain/paging.js';
import { newSid } from '../../domain/sids.js';
import { SIP_DIGEST_REALM, type SipCredential } from '../../domain/sip-credential.js';
import { ConflictError, ResourceNotFound, RuleViolation } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { digestHa1s } from './digest-hashes.js';
import { sipNamedLists } from './named-lists.js';
import { requirePassword, requireUsername, SipCode } from './sip-rules.js';

export const sipCredentialLists = sipNamedLists({
  prefix: 'CL',
  what: 'SIP CredentialList',
  insert: (store, list) => store.insertSipCredentialList(list),
  find: (store, accountSid, sid) => store.findSipCredentialList(accountSid, sid),
  update: (store, list) => store.updateSipCredentialList(list),
  remove: (store, sid) => store.deleteSipCredentialList(sid),
  list: (store, accountSid, page) => store.listSipCredentialLists(accountSid, page),
});

export async function createSipCredential(
  ctx: ServiceContext,
  accountSid: string,
  listSid: string,
  username: string,
  password: string,
): Promise<SipCredential> {
  await sipCredentialLists.get(ctx, accountSid, listSid);
  requireUsername(username);
  requirePassword(password);
  const ha1 = digestHa1s(username, SIP_DIGEST_REALM, password);
  const now = ctx.clock.now();
  const credential: SipCredential = {
    sid: newSid('CR'),
    accountSid,
    credentialListSid: listSid,
    username,
    realm: SIP_DIGEST_REALM,
    ha1Md5: ha1.md5,
    ha1Sha256: ha1.sha256,
    dateCreated: now,
    dateUpdated: now,
  };
  try {
    await ctx.store.insertSipCredential(credential);
  } catch (error) {
    if (error instanceof ConflictError) throw new RuleViolation(SipCode.credentialListValidation, `Username ${username} is already in the credential list ${listSid}`);
    throw error;
  }
  return credential;
}

export async function getSipCredential(ctx: ServiceContext, accountSid: string, listSid: string, sid: string): Promise<SipCredential> {
  await sipCredentialLists.get(ctx, accountSid, listSid);
  const credential = await ctx.store.findSipCredential(listSid, sid);
  if (!credential) throw new ResourceNotFound(`SIP Credential ${sid}`);
  return credential;
}

/** A new password (the only thing Twilio lets change); without one, the credential is returned unchanged. */
export async function changeSipCredentialPassword(
  ctx: ServiceContext,
  accountSid: string,
  listSid: string,
  sid: string,
  password: string | undefined,
): Promise<SipCredential> {
  const credential = await getSipCredential(ctx, accountSid, listSid, sid);
  if (password === undefined) return credential;
  requirePassword(password);
  const ha1 = digestHa1s(credential.username, SIP_DIGEST_REALM, password);
  const next: SipCredential = { ...credential, realm: SIP_DIGEST_REALM, ha1Md5: ha1.md5, ha1Sha256: ha1.sha256, dateUpdated: ctx.clock.now() };
  await ctx.store.updateSipCredential(next);
  return next;
}

export async function deleteSipCredential(ctx: ServiceContext, accountSid: string, listSid: string, sid: string): Promise<void> {
  await getSipCredential(ctx, accountSid, listSid, sid);
  await ctx.store.deleteSipCredential(sid);
}

export async function listSipCredentials(ctx: ServiceContext, accountSid: string, listSid: string, page: PageRequest): Promise<PageResult<SipCredential>> {
  await sipCredentialLists.get(ctx, accountSid, listSid);
  return ctx.store.listSipCredentials(listSid, page);
}
