/**
 * TwiML Applications (twilio-oai CreateApplication, FetchApplication, UpdateApplication,
 * DeleteApplication, ListApplication; https://www.twilio.com/docs/usage/api/applications): an
 * account's named sets of voice URLs, which the calls a browser places run (the Access Token's
 * `outgoingApplicationSid`) and which a number may name instead of its own URLs
 * (`VoiceApplicationSid`).
 */
import type { Application, ApplicationFilter } from '../domain/application.js';
import type { HttpMethod } from '../domain/call.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { newSid } from '../domain/sids.js';
import { ResourceNotFound } from '../errors.js';
import type { ServiceContext } from './context.js';
import type { VoiceUrlSettings } from './phone-numbers.js';

/** What a client may set: a number's voice URLs, and more; a URL of null is no URL. */
export interface ApplicationSettings extends VoiceUrlSettings {
  voiceCallerIdLookup?: boolean;
  smsUrl?: string | null;
  smsMethod?: HttpMethod;
  smsFallbackUrl?: string | null;
  smsFallbackMethod?: HttpMethod;
  smsStatusCallback?: string | null;
  messageStatusCallback?: string | null;
  publicApplicationConnectEnabled?: boolean;
}

/** The only API version Conclave speaks; Twilio's `2008-08-01` sessions are not served. */
export const API_VERSION = '2010-04-01';

export async function createApplication(ctx: ServiceContext, accountSid: string, spec: ApplicationSettings): Promise<Application> {
  const now = ctx.clock.now();
  const application: Application = {
    sid: newSid('AP'),
    accountSid,
    // FriendlyName is optional in twilio-oai's CreateApplication: without one, the name is empty.
    friendlyName: spec.friendlyName ?? '',
    apiVersion: API_VERSION,
    voiceUrl: spec.voiceUrl ?? null,
    voiceMethod: spec.voiceMethod ?? 'POST',
    voiceFallbackUrl: spec.voiceFallbackUrl ?? null,
    voiceFallbackMethod: spec.voiceFallbackMethod ?? 'POST',
    statusCallback: spec.statusCallback ?? null,
    statusCallbackMethod: spec.statusCallbackMethod ?? 'POST',
    voiceCallerIdLookup: spec.voiceCallerIdLookup ?? false,
    smsUrl: spec.smsUrl ?? null,
    smsMethod: spec.smsMethod ?? 'POST',
    smsFallbackUrl: spec.smsFallbackUrl ?? null,
    smsFallbackMethod: spec.smsFallbackMethod ?? 'POST',
    smsStatusCallback: spec.smsStatusCallback ?? null,
    messageStatusCallback: spec.messageStatusCallback ?? null,
    publicApplicationConnectEnabled: spec.publicApplicationConnectEnabled ?? false,
    dateCreated: now,
    dateUpdated: now,
  };
  await ctx.store.insertApplication(application);
  return application;
}

/** The account's application; ResourceNotFound (404 / 20404) for an unknown SID or another account's. */
export async function getApplication(ctx: ServiceContext, accountSid: string, sid: string): Promise<Application> {
  const application = await ctx.store.findApplication(sid);
  if (!application || application.accountSid !== accountSid) throw new ResourceNotFound(`Application ${sid}`);
  return application;
}

/** Changes the given settings; with none given, the application is returned unchanged. */
export async function updateApplication(ctx: ServiceContext, accountSid: string, sid: string, change: ApplicationSettings): Promise<Application> {
  const application = await getApplication(ctx, accountSid, sid);
  const given = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) as Partial<Application>;
  if (Object.keys(given).length === 0) return application;
  const next: Application = { ...application, ...given, dateUpdated: ctx.clock.now() };
  await ctx.store.updateApplication(next);
  return next;
}

export async function deleteApplication(ctx: ServiceContext, accountSid: string, sid: string): Promise<void> {
  await getApplication(ctx, accountSid, sid);
  await ctx.store.deleteApplication(sid);
}

/** Oldest first, as Twilio lists an account's applications. */
export function listApplications(ctx: ServiceContext, accountSid: string, page: PageRequest, filter: ApplicationFilter = {}): Promise<PageResult<Application>> {
  return ctx.store.listApplications(accountSid, page, filter);
}
