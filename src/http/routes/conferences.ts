/**
 * The Conference resource: list (Status, FriendlyName, DateCreated…, DateUpdated… filters),
 * fetch, and update with `Status=completed` (twilio-oai ListConference, FetchConference,
 * UpdateConference). Conferences are never deleted (no DELETE in Twilio's API either).
 */
import type { FastifyInstance } from 'fastify';
import type { ConferenceStatus } from '../../domain/model.js';
import type { CallServiceContext } from '../../services/calls/call-service-context.js';
import { endConference } from '../../services/end-conference.js';
import { getConference, listConferences } from '../../services/read-conferences.js';
import { boundedText, dateRange, oneOf } from '../form-params.js';
import { conferenceShape } from '../representation/conference-shape.js';
import { parsePaging } from '../representation/list-page.js';
import { accountPath } from '../representation/uris.js';
import { audioUrl } from './participants.js';
import { announceToConference } from '../../services/calls/participant-audio.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Conferences';
const STATUSES: readonly ConferenceStatus[] = ['init', 'in-progress', 'completed'];
const FILTERS = ['Status', 'FriendlyName', 'DateCreated', 'DateCreated<', 'DateCreated>', 'DateUpdated', 'DateUpdated<', 'DateUpdated>'];

export function registerConferenceRoutes(app: FastifyInstance, ctx: CallServiceContext): void {
  resource(app, LIST, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const query = queryOf(request);
      const list = parsePaging(query);
      const filter = {
        accountSid: account.sid,
        status: oneOf(query, 'Status', STATUSES),
        // No conference name is longer (Twilio error 13237: 1 to 128 characters).
        friendlyName: boundedText(query, 'FriendlyName', 128),
        dateCreated: dateRange(query, 'DateCreated'),
        dateUpdated: dateRange(query, 'DateUpdated'),
      };
      const result = await listConferences(ctx, filter, list.page);
      sendList(reply, request, conferenceShape, `${accountPath(account.sid)}/Conferences`, echoFilters(query, FILTERS), list, result);
    },
  });

  resource(app, `${LIST}/:ConferenceSid`, {
    GET: async (request, reply) => {
      const conference = await getConference(ctx, accountOf(request).sid, paramsOf(request).ConferenceSid!);
      sendInstance(reply, request, conferenceShape, conference);
    },
    POST: async (request, reply) => {
      const account = accountOf(request);
      const conferenceSid = paramsOf(request).ConferenceSid!;
      const form = formOf(request);
      // Matched without regard to case, as Twilio matches its enums; `completed` is the only one.
      const status = oneOf(form, 'Status', ['completed'] as const);
      const announce = audioUrl(form, 'AnnounceUrl', 'AnnounceMethod', 'POST').announceUrl;
      let conference = await getConference(ctx, account.sid, conferenceSid);
      if (announce) await announceToConference(ctx, conference, announce);
      if (status === 'completed') conference = await endConference(ctx, account.sid, conferenceSid);
      sendInstance(reply, request, conferenceShape, conference);
    },
  });
}
