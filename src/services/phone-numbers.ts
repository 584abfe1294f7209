/**
 * Phone numbers an account owns (twilio-oai CreateIncomingPhoneNumber, FetchIncomingPhoneNumber,
 * UpdateIncomingPhoneNumber, DeleteIncomingPhoneNumber, ListIncomingPhoneNumber), and the routing
 * of inbound calls by the number dialled. Conclave has no carrier to buy numbers from: a user
 * registers the numbers it already owns. A number belongs to one account of the deployment only,
 * since inbound calls are routed by it (the store's unique rule settles races).
 */
import type { HttpMethod } from '../domain/call.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import { isE164, type PhoneNumber } from '../domain/phone-number.js';
import type { PhoneNumberFilter } from '../domain/ports.js';
import { newSid } from '../domain/sids.js';
import { ConflictError, ResourceNotFound, RuleViolation } from '../errors.js';
import type { ServiceContext } from './context.js';

/**
 * Twilio's error dictionary: 21421 "PhoneNumber is invalid", 21422 "PhoneNumber is not
 * available", 21218 "Invalid ApplicationSid" (an application that is not the account's).
 */
export const PhoneNumberCode = { invalid: 21421, notAvailable: 21422, invalidApplication: 21218 } as const;

/** The name and voice URLs a number and an Application both hold; a URL of null is no URL. */
export interface VoiceUrlSettings {
  friendlyName?: string;
  voiceUrl?: string | null;
  voiceMethod?: HttpMethod;
  voiceFallbackUrl?: string | null;
  voiceFallbackMethod?: HttpMethod;
  statusCallback?: string | null;
  statusCallbackMethod?: HttpMethod;
}

/** The voice settings of a number. */
export interface VoiceSettings extends VoiceUrlSettings {
  /** An Application of the account whose voice settings answer instead; null clears it. */
  voiceApplicationSid?: string | null;
}

export interface NewPhoneNumber extends VoiceSettings {
  /** E.164. */
  phoneNumber: string;
}

/** Refuses anything but E.164; a leading space is most likely a `+` sent unencoded in a form. */
export function requireE164(phoneNumber: string, field = 'PhoneNumber'): void {
  if (isE164(phoneNumber)) return;
  const hint = /^ \d+$/.test(phoneNumber) ? ' (a "+" in a form body or a query must be sent encoded, as %2B)' : '';
  throw new RuleViolation(
    PhoneNumberCode.invalid,
    `Invalid ${field}: "${phoneNumber}" is not a phone number in E.164 format, such as +15005550006${hint}`,
  );
}

/** A number may name only an Application of its own account. */
async function requireApplication(ctx: ServiceContext, accountSid: string, sid: string | null | undefined): Promise<void> {
  if (sid === undefined || sid === null) return;
  const application = await ctx.store.findApplication(sid);
  if (application?.accountSid === accountSid) return;
  throw new RuleViolation(PhoneNumberCode.invalidApplication, `Invalid VoiceApplicationSid: ${sid} is not an Application of account ${accountSid}`);
}

export async function createPhoneNumber(ctx: ServiceContext, accountSid: string, spec: NewPhoneNumber): Promise<PhoneNumber> {
  requireE164(spec.phoneNumber);
  await requireApplication(ctx, accountSid, spec.voiceApplicationSid);
  const now = ctx.clock.now();
  const number: PhoneNumber = {
    sid: newSid('PN'),
    accountSid,
    phoneNumber: spec.phoneNumber,
    friendlyName: spec.friendlyName || spec.phoneNumber,
    voiceUrl: spec.voiceUrl ?? null,
    voiceMethod: spec.voiceMethod ?? 'POST',
    voiceFallbackUrl: spec.voiceFallbackUrl ?? null,
    voiceFallbackMethod: spec.voiceFallbackMethod ?? 'POST',
    statusCallback: spec.statusCallback ?? null,
    statusCallbackMethod: spec.statusCallbackMethod ?? 'POST',
    voiceApplicationSid: spec.voiceApplicationSid ?? null,
    dateCreated: now,
    dateUpdated: now,
  };
  try {
    await ctx.store.insertPhoneNumber(number);
  } catch (error) {
    // The SID is 128 random bits: a conflict is the number, registered by this or another account.
    if (error instanceof ConflictError) {
      throw new RuleViolation(
        PhoneNumberCode.notAvailable,
        `PhoneNumber ${spec.phoneNumber} is not available: it is already registered on this Conclave`,
      );
    }
    throw error;
  }
  return number;
}

export async function getPhoneNumber(ctx: ServiceContext, accountSid: string, sid: string): Promise<PhoneNumber> {
  const number = await ctx.store.findPhoneNumber(accountSid, sid);
  if (!number) throw new ResourceNotFound(`IncomingPhoneNumber ${sid}`);
  return number;
}

/** Changes the given settings; with none given, the number is returned unchanged. */
export async function updatePhoneNumber(ctx: ServiceContext, accountSid: string, sid: string, change: VoiceSettings): Promise<PhoneNumber> {
  const number = await getPhoneNumber(ctx, accountSid, sid);
  const given = (Object.keys(change) as Array<keyof VoiceSettings>).filter((key) => change[key] !== undefined);
  if (given.length === 0) return number;
  await requireApplication(ctx, accountSid, change.voiceApplicationSid);
  const next: PhoneNumber = {
    ...number,
    friendlyName: change.friendlyName === undefined ? number.friendlyName : change.friendlyName || number.phoneNumber,
    voiceUrl: change.voiceUrl === undefined ? number.voiceUrl : change.voiceUrl,
    voiceMethod: change.voiceMethod ?? number.voiceMethod,
    voiceFallbackUrl: change.voiceFallbackUrl === undefined ? number.voiceFallbackUrl : change.voiceFallbackUrl,
    voiceFallbackMethod: change.voiceFallbackMethod ?? number.voiceFallbackMethod,
    statusCallback: change.statusCallback === undefined ? number.statusCallback : change.statusCallback,
    statusCallbackMethod: change.statusCallbackMethod ?? number.statusCallbackMethod,
    voiceApplicationSid: change.voiceApplicationSid === undefined ? number.voiceApplicationSid : change.voiceApplicationSid,
    dateUpdated: ctx.clock.now(),
  };
  await ctx.store.updatePhoneNumber(next);
  return next;
}

export async function deletePhoneNumber(ctx: ServiceContext, accountSid: string, sid: string): Promise<void> {
  await getPhoneNumber(ctx, accountSid, sid);
  await ctx.store.deletePhoneNumber(sid);
}

/** Oldest first, as Twilio lists an account's numbers. */
export function listPhoneNumbers(ctx: ServiceContext, filter: PhoneNumberFilter, page: PageRequest): Promise<PageResult<PhoneNumber>> {
  return ctx.store.listPhoneNumbers(filter, page);
}

/**
 * The number an inbound call dialled, whichever account owns it; undefined when no account does
 * (or when `phoneNumber` is not E.164, which no registered number can match).
 */
export async function routeInbound(ctx: ServiceContext, phoneNumber: string): Promise<PhoneNumber | undefined> {
  return isE164(phoneNumber) ? ctx.store.findPhoneNumberByNumber(phoneNumber) : undefined;
}

/** The webhooks that answer a call to a number. */
export interface VoiceAnswer {
  url: string | null;
  method: HttpMethod;
  fallbackUrl: string | null;
  fallbackMethod: HttpMethod;
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
}

/**
 * What answers a number's calls: the voice settings of the Application it names, if it names one
 * ("If set, the voice_url … are ignored": twilio-oai IncomingPhoneNumber `voice_application_sid`),
 * else its own. An application deleted meanwhile answers nothing: the number's own settings do.
 */
export async function voiceAnswerOf(ctx: ServiceContext, number: PhoneNumber): Promise<VoiceAnswer> {
  const application = number.voiceApplicationSid === null ? undefined : await ctx.store.findApplication(number.voiceApplicationSid);
  const from = application?.accountSid === number.accountSid ? application : number;
  return {
    url: from.voiceUrl,
    method: from.voiceMethod,
    fallbackUrl: from.voiceFallbackUrl,
    fallbackMethod: from.voiceFallbackMethod,
    statusCallback: from.statusCallback,
    statusCallbackMethod: from.statusCallbackMethod,
  };
}
