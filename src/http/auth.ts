/**
 * HTTP Basic authentication of every API request, and the check that the caller may reach the
 * account in the path. Failure is 401 / 20003 with `WWW-Authenticate: Basic realm="Twilio API"`,
 * the same whether the account in the path does not exist or belongs to someone else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSid } from '../domain/sids.js';
import { authenticate as unauthorized, ResourceNotFound } from '../errors.js';
import type { ServiceContext } from '../services/context.js';
import { authenticate, mayReach, type Principal } from '../services/authenticate.js';

function credentials(request: FastifyRequest): { username: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function registerAuth(app: FastifyInstance, ctx: ServiceContext): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('account', null);
  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.url) return; // unknown route: the 404 handler answers
    const header = request.headers.authorization ?? '';
    let principal: Principal | undefined = ctx.credentials.get(header);
    if (!principal) {
      const given = credentials(request);
      principal = given && (await authenticate(ctx.store, given.username, given.password));
      if (!principal) throw unauthorized();
      ctx.credentials.remember(header, principal);
    }
    request.principal = principal;
    const accountSid = (request.params as { AccountSid?: string }).AccountSid;
    if (accountSid === undefined) return;
    // Only a well-formed SID is looked up: anything else names no account (and a NUL byte would
    // make PostgreSQL fail the query).
    const target =
      accountSid === principal.account.sid ? principal.account : isSid(accountSid, 'AC') ? await ctx.store.findAccount(accountSid) : undefined;
    if (!target || !mayReach(principal, target)) throw unauthorized();
    request.account = target;
    // No resource is named with a NUL character (PostgreSQL text cannot even hold one).
    if (Object.values(request.params as Record<string, unknown>).some((v) => typeof v === 'string' && v.includes('\u0000'))) {
      throw new ResourceNotFound('A resource named with a NUL character');
    }
  });
}
