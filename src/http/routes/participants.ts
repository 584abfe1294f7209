/**
 * The Participants resource of the seed: fetch, update (mute, hold, coaching…), kick (204) and
 * list with the `Muted`, `Hold` and `Coaching` filters. A participant is addressed by call SID or
 * by its percent-encoded label (twilio-oai FetchParticipant `{CallSid}`).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, TwilioCode } from '../../errors.js';
import type { ServiceContext } from '../../services/context.js';
import { getParticipant, listParticipants } from '../../services/read-conferences.js';
import { removeParticipant } from '../../services/remove-participant.js';
import { updateParticipant } from '../../services/update-participant.js';
import { bool, sid, text, type Params } from '../form-params.js';
import { parsePaging } from '../representation/list-page.js';
import { participantShape } from '../representation/participant-shape.js';
import { conferencePath } from '../representation/uris.js';
import { accountOf, echoFilters, formOf, paramsOf, queryOf, resource, sendInstance, sendList } from './resource.js';

const LIST = '/2010-04-01/Accounts/:AccountSid/Conferences/:ConferenceSid/Participants';
const FILTERS = ['Muted', 'Hold', 'Coaching'] as const;
/** Known parameters whose audio needs the media plane; refused plainly rather than ignored. */
const NOT_YET = ['HoldUrl', 'HoldMethod', 'AnnounceUrl', 'AnnounceMethod', 'WaitUrl', 'WaitMethod'] as const;

export function refuseNotYet(form: Params, names: readonly string[]): void {
  const given = names.find((name) => text(form, name) !== undefined);
  if (given) {
    throw new ApiError(400, TwilioCode.invalidParameter, `${given} is not supported yet: audio for hold, wait and announcements arrives with the media plane`);
  }
}

export function registerParticipantRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  resource(app, LIST, {
    GET: async (request, reply) => {
      const account = accountOf(request);
      const { ConferenceSid } = paramsOf(request);
      const query = queryOf(request);
      const list = parsePaging(query);
      const filter = {
        conferenceSid: ConferenceSid!,
        muted: bool(query, 'Muted'),
        hold: bool(query, 'Hold'),
        coaching: bool(query, 'Coaching'),
      };
      const result = await listParticipants(ctx, account.sid, filter, list.page);
      const path = `${conferencePath(account.sid, ConferenceSid!)}/Participants`;
      sendList(reply, request, participantShape, path, echoFilters(query, FILTERS), list, result);
    },
  });

  resource(app, `${LIST}/:CallSid`, {
    GET: async (request, reply) => {
      const { ConferenceSid, CallSid } = paramsOf(request);
      const participant = await getParticipant(ctx, accountOf(request).sid, ConferenceSid!, CallSid!);
      sendInstance(reply, request, participantShape, participant);
    },
    POST: async (request, reply) => {
      const { ConferenceSid, CallSid } = paramsOf(request);
      const form = formOf(request);
      refuseNotYet(form, NOT_YET);
      const change = {
        muted: bool(form, 'Muted', true),
        hold: bool(form, 'Hold'),
        coaching: bool(form, 'Coaching'),
        callSidToCoach: sid(form, 'CallSidToCoach', 'CA'),
        endConferenceOnExit: bool(form, 'EndConferenceOnExit'),
        beepOnExit: bool(form, 'BeepOnExit'),
      };
      const address = { accountSid: accountOf(request).sid, conferenceSid: ConferenceSid!, participant: CallSid! };
      const participant = await updateParticipant(ctx, address, change);
      sendInstance(reply, request, participantShape, participant);
    },
    DELETE: async (request, reply) => {
      const { ConferenceSid, CallSid } = paramsOf(request);
      await removeParticipant(ctx, { accountSid: accountOf(request).sid, conferenceSid: ConferenceSid!, participant: CallSid! }, 'kicked');
      void reply.code(204).send();
    },
  });
}
