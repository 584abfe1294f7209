/**
 * `GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/SipMessages.json`: Conclave's own
 * resource (Twilio has none like it) — the SIP messages of a call in and out, in order, for a
 * ladder diagram: `{"messages": [{time, direction, source, destination, transport, firstLine,
 * text}]}`. 404 / 20404 for a call the account does not have. Only the node that runs the call
 * has its messages, in memory and for a bounded while (sip/trace/sip-message-buffer.ts): another
 * node answers an empty list, as does a call that never used SIP.
 */
import type { FastifyInstance } from 'fastify';
import type { SipMessageLog } from '../../domain/sip-messages.js';
import type { CallServiceContext } from '../../services/calls/call-service-context.js';
import { getCall } from '../../services/calls/update-call.js';
import { accountOf, paramsOf, resource } from './resource.js';

export function registerSipMessageRoutes(app: FastifyInstance, ctx: CallServiceContext, log: SipMessageLog): void {
  resource(app, '/2010-04-01/Accounts/:AccountSid/Calls/:CallSid/SipMessages', {
    GET: async (request, reply) => {
      const call = await getCall(ctx, accountOf(request).sid, paramsOf(request).CallSid!);
      void reply.code(200).type('application/json').send(JSON.stringify({ messages: log.messagesOf(call.sid) }));
    },
  });
}
