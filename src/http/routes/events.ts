/**
 * `GET /2010-04-01/Accounts/{AccountSid}/Events` — the live event stream. This is Conclave's
 * own API: Twilio has no such resource (its closest are the status callbacks and Event
 * Streams). A Server-Sent Events stream
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html) of what happens in the
 * account, as it happens:
 *
 *     id: <event id>
 *     event: call | conference | recording | gather | reset
 *     data: <one line of JSON: the parameters Twilio's callbacks carry for it>
 *
 * (events/live-event-builders.ts says what each carries.) Authenticated like every API route:
 * HTTP Basic with the AccountSid and AuthToken, or an API key SID and secret; an account sees
 * its own events and, with the parent's credentials, a subaccount's (401 / 20003 otherwise).
 *
 * Filters: `?ConferenceSid=CF…` (that conference's events and its recordings),
 * `?CallSid=CA…` (that call's progress, gathers, recordings and its participant events);
 * a malformed SID is a 400 / 20001 as elsewhere.
 *
 * Resumption: `Last-Event-ID` (the header browsers' EventSource sends on reconnecting), or
 * `?lastEventId=` for clients that cannot set headers, replays the events after it — from the
 * node that gave the id, within the account's last 8 MB of events and 5 minutes. Otherwise
 * the stream starts with `event: reset`: events may have been missed, reload the state (the
 * REST resources) and go on from there. A client that does not read its stream fast enough is
 * cut off (it reconnects with Last-Event-ID); a `: keep-alive` comment comes every 15 s.
 */
import type { FastifyInstance } from 'fastify';
import type { LiveEvents } from '../../events/live-events.js';
import type { LiveEventFilter } from '../../events/live-event-hub.js';
import { sid, text } from '../form-params.js';
import { accountOf, queryOf } from './resource.js';

export function registerEventRoutes(app: FastifyInstance, live: LiveEvents): void {
  app.get('/2010-04-01/Accounts/:AccountSid/Events', (request, reply) => {
    const account = accountOf(request);
    const query = queryOf(request);
    const callSid = sid(query, 'CallSid', 'CA');
    const conferenceSid = sid(query, 'ConferenceSid', 'CF');
    const filter: LiveEventFilter = { ...(callSid ? { callSid } : {}), ...(conferenceSid ? { conferenceSid } : {}) };
    const header = request.headers['last-event-id'];
    const lastEventId = (typeof header === 'string' && header !== '' ? header : undefined) ?? text(query, 'lastEventId');
    // The stream writes to the socket itself from here on.
    reply.hijack();
    live.open(reply.raw, account.sid, filter, lastEventId);
  });
}
