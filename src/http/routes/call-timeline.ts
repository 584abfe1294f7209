/**
 * `GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Timeline.json`: Conclave's own resource
 * (Twilio has none like it; its Console's call page shows the like) — what happened to a call,
 * in order: `{"events": [{time, kind: "status", status, event} | {time, kind: "webhook",
 * purpose, method, url, status, errorCode, error, durationMs} | {time, kind: "verb", verb,
 * attributes}]}` (domain/call-timeline.ts). 404 / 20404 for a call the account does not have.
 * Only the node that runs the call has its timeline, in memory and for a bounded while
 * (services/calls/call-timeline-buffer.ts): another node answers an empty list.
 */
import type { FastifyInstance } from 'fastify';
import type { CallTimelineLog } from '../../domain/call-timeline.js';
import type { CallServiceContext } from '../../services/calls/call-service-context.js';
import { getCall } from '../../services/calls/update-call.js';
import { accountOf, paramsOf, resource } from './resource.js';

export function registerCallTimelineRoutes(app: FastifyInstance, ctx: CallServiceContext, log: CallTimelineLog): void {
  resource(app, '/2010-04-01/Accounts/:AccountSid/Calls/:CallSid/Timeline', {
    GET: async (request, reply) => {
      const call = await getCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!);
      void reply.code(200).type('application/json').send(JSON.stringify({ events: log.eventsOf(call.sid) }));
    },
  });
}
