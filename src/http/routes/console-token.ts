/**
 * `POST /console/voice-token` (Conclave's own): an Access Token for the console's browser phone,
 * so the console can join a conference from the tab (Create Participant To=client:<identity>,
 * accepted by the page). Form `Identity`; answer `{ token, identity, ttl }`. The caller signs in
 * as for the API (Basic auth); the token is signed with the caller's account's auth token
 * (`iss` = `sub` = the Account SID, see services/access-tokens.ts), allows incoming calls and
 * lasts an hour — the console asks for a new one before it runs out.
 */
import type { FastifyInstance } from 'fastify';
import { invalidParameter } from '../../errors.js';
import { signAccessToken } from '../../services/access-tokens.js';
import type { ServiceContext } from '../../services/context.js';
import { text } from '../form-params.js';
import { formOf } from './resource.js';

const TTL_SECONDS = 3600;
/** As a token's identity (access-tokens.ts): up to 256 characters, no spaces or control characters. */
const IDENTITY = /^[^\s\p{Cc}]{1,256}$/u;

export function registerConsoleTokenRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post('/console/voice-token', async (request, reply) => {
    const identity = text(formOf(request), 'Identity');
    if (identity === undefined || !IDENTITY.test(identity)) throw invalidParameter('Identity', 'must be 1 to 256 characters without spaces or control characters');
    const account = request.principal!.account;
    const token = signAccessToken({ accountSid: account.sid, issuer: account.sid, identity, ttlSeconds: TTL_SECONDS, incomingAllow: true }, account.authToken, ctx.clock.now());
    void reply.header('cache-control', 'no-store').send({ token, identity, ttl: TTL_SECONDS });
  });
}
