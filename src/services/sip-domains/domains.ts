/**
 * SIP Domains (twilio-oai CreateSipDomain, FetchSipDomain, UpdateSipDomain, DeleteSipDomain,
 * ListSipDomain). A domain name is unique across the deployment, whichever account holds it:
 * SIP requests are routed by it (the store's unique rule settles races).
 */
import type { HttpMethod } from '../../domain/call.js';
import type { PageRequest, PageResult } from '../../domain/paging.js';
import { newSid } from '../../domain/sids.js';
import { authTypeOf, type SipDomain } from '../../domain/sip-domain.js';
import { ConflictError, ResourceNotFound, RuleViolation } from '../../errors.js';
import type { ServiceContext } from '../context.js';
import { normaliseDomainName, SipCode } from './sip-rules.js';

/** A domain as the API shows it: with Twilio's `auth_type`, derived from its call mappings. */
export interface SipDomainView extends SipDomain {
  authType: string | null;
}

/** What a client may set; a URL of null is no URL. */
export interface SipDomainSettings {
  domainName?: string;
  friendlyName?: string;
  voiceUrl?: string | null;
  voiceMethod?: HttpMethod;
  voiceFallbackUrl?: string | null;
  voiceFallbackMethod?: HttpMethod;
  voiceStatusCallbackUrl?: string | null;
  voiceStatusCallbackMethod?: HttpMethod;
  sipRegistration?: boolean;
  secure?: boolean;
}

function nameTaken(domainName: string): RuleViolation {
  return new RuleViolation(SipCode.domainValidation, `DomainName ${domainName} is already in use on this Conclave`);
}

async function withAuth(ctx: ServiceContext, domains: readonly SipDomain[]): Promise<SipDomainView[]> {
  const auth = await ctx.store.findSipDomainAuth(domains.map((d) => d.sid));
  return domains.map((d) => ({ ...d, authType: authTypeOf(auth.get(d.sid) ?? { ipAccessControlList: false, credentialList: false }) }));
}

export async function createSipDomain(ctx: ServiceContext, accountSid: string, spec: SipDomainSettings & { domainName: string }): Promise<SipDomainView> {
  const domainName = normaliseDomainName(spec.domainName);
  const now = ctx.clock.now();
  const domain: SipDomain = {
    sid: newSid('SD'),
    accountSid,
    domainName,
    // Twilio names a domain after its domain name when no friendly name is given.
    friendlyName: spec.friendlyName || domainName,
    voiceUrl: spec.voiceUrl ?? null,
    voiceMethod: spec.voiceMethod ?? 'POST',
    voiceFallbackUrl: spec.voiceFallbackUrl ?? null,
    voiceFallbackMethod: spec.voiceFallbackMethod ?? 'POST',
    voiceStatusCallbackUrl: spec.voiceStatusCallbackUrl ?? null,
    voiceStatusCallbackMethod: spec.voiceStatusCallbackMethod ?? 'POST',
    sipRegistration: spec.sipRegistration ?? false,
    secure: spec.secure ?? false,
    dateCreated: now,
    dateUpdated: now,
  };
  try {
    await ctx.store.insertSipDomain(domain);
  } catch (error) {
    if (error instanceof ConflictError) throw nameTaken(domainName);
    throw error;
  }
  return { ...domain, authType: null };
}

export async function findSipDomainOf(ctx: ServiceContext, accountSid: string, sid: string): Promise<SipDomain> {
  const domain = await ctx.store.findSipDomain(accountSid, sid);
  if (!domain) throw new ResourceNotFound(`SIP Domain ${sid}`);
  return domain;
}

export async function getSipDomain(ctx: ServiceContext, accountSid: string, sid: string): Promise<SipDomainView> {
  const [view] = await withAuth(ctx, [await findSipDomainOf(ctx, accountSid, sid)]);
  return view!;
}

/** Changes the given settings; with none given, the domain is returned unchanged. */
export async function updateSipDomain(ctx: ServiceContext, accountSid: string, sid: string, change: SipDomainSettings): Promise<SipDomainView> {
  const domain = await findSipDomainOf(ctx, accountSid, sid);
  const given = (Object.keys(change) as Array<keyof SipDomainSettings>).filter((key) => change[key] !== undefined);
  if (given.length === 0) return getSipDomain(ctx, accountSid, sid);
  const domainName = change.domainName === undefined ? domain.domainName : normaliseDomainName(change.domainName);
  const pick = <K extends keyof SipDomainSettings & keyof SipDomain>(key: K): SipDomain[K] =>
    (change[key] === undefined ? domain[key] : change[key]) as SipDomain[K];
  const next: SipDomain = {
    ...domain,
    domainName,
    friendlyName: change.friendlyName === undefined ? domain.friendlyName : change.friendlyName || domainName,
    voiceUrl: pick('voiceUrl'),
    voiceMethod: pick('voiceMethod'),
    voiceFallbackUrl: pick('voiceFallbackUrl'),
    voiceFallbackMethod: pick('voiceFallbackMethod'),
    voiceStatusCallbackUrl: pick('voiceStatusCallbackUrl'),
    voiceStatusCallbackMethod: pick('voiceStatusCallbackMethod'),
    sipRegistration: pick('sipRegistration'),
    secure: pick('secure'),
    dateUpdated: ctx.clock.now(),
  };
  try {
    await ctx.store.updateSipDomain(next);
  } catch (error) {
    if (error instanceof ConflictError) throw nameTaken(domainName);
    throw error;
  }
  const [view] = await withAuth(ctx, [next]);
  return view!;
}

/** Its mappings go with it; the lists stay. */
export async function deleteSipDomain(ctx: ServiceContext, accountSid: string, sid: string): Promise<void> {
  await findSipDomainOf(ctx, accountSid, sid);
  await ctx.store.deleteSipDomain(sid);
}

export async function listSipDomains(ctx: ServiceContext, accountSid: string, page: PageRequest): Promise<PageResult<SipDomainView>> {
  const result = await ctx.store.listSipDomains(accountSid, page);
  return { ...result, items: await withAuth(ctx, result.items) };
}
