/**
 * Reading conferences and participants for the API: fetch and list, scoped to one account.
 * No transaction: a read sees committed state.
 */
import type { Conference, Participant } from '../domain/model.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { ConferenceFilter, ParticipantFilter } from '../domain/ports.js';
import { ResourceNotFound } from '../errors.js';
import type { ServiceContext } from './context.js';

export async function getConference(ctx: ServiceContext, accountSid: string, conferenceSid: string): Promise<Conference> {
  const conference = await ctx.store.findConference(accountSid, conferenceSid);
  if (!conference) throw new ResourceNotFound(`Conference ${conferenceSid}`);
  return conference;
}

export function listConferences(ctx: ServiceContext, filter: ConferenceFilter, page: PageRequest): Promise<PageResult<Conference>> {
  return ctx.store.listConferences(filter, page);
}

export async function getParticipant(ctx: ServiceContext, accountSid: string, conferenceSid: string, callSidOrLabel: string): Promise<Participant> {
  const participant = await ctx.store.findParticipant(conferenceSid, callSidOrLabel);
  if (!participant || participant.accountSid !== accountSid) throw new ResourceNotFound(`Participant ${callSidOrLabel}`);
  return participant;
}

/** Participants of a live or completed conference of the account (a completed one has none). */
export async function listParticipants(
  ctx: ServiceContext,
  accountSid: string,
  filter: ParticipantFilter,
  page: PageRequest,
): Promise<PageResult<Participant>> {
  await getConference(ctx, accountSid, filter.conferenceSid);
  return ctx.store.listParticipants(filter, page);
}
