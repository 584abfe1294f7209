/**
 * HTTP Basic authentication of every API request, and the check that the caller may reach the
 * account in the path. Failure is 401 / 20003 with `WWW-Authenticate: Basic realm="Twilio API"`,
 * the same whether the account in the path does not exist or belongs to someone else. Too many
 * failed logins from one address, or for one account, are answered 429 / 20429 with
 * `Retry-After` before the credentials are looked at (services/login-throttle.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSid } from '../domain/sids.js';
import { authenticate as unauthorized, ResourceNotFound, TwilioCode } from '../errors.js';
import type { ServiceContext } from '../services/context.js';
import { authenticate, mayReach, type Principal } from '../services/authenticate.js';
import { LOGIN_WINDOW_MS, type LoginRefusal, type LoginThrottle } from '../services/login-throttle.js';
import { clientAddress } from './client-address.js';
import { requestPath, sendRestException } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no credentials (static files, health checks); every other one does. */
    unauthenticated?: boolean;
  }
}

function credentials(request: FastifyRequest): { username: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The checks of one request once the caller is known; `undefined` when the path needs no
 * account lookup (the common case: the caller's own account), else the lookup to wait for.
 */
function reach(ctx: ServiceContext, request: FastifyRequest, principal: Principal): Promise<void> | undefined {
  request.principal = principal;
  const params = request.params as Record<string, string | undefined>;
  const accountSid = params.AccountSid;
  if (accountSid === undefined || accountSid === principal.account.sid) {
    if (accountSid !== undefined) request.account = principal.account;
    refuseNul(params);
    return undefined;
  }
  // Only a well-formed SID is looked up: anything else names no account.
  if (!isSid(accountSid, 'AC')) throw unauthorized();
  return ctx.store.findAccount(accountSid).then((target) => {
    if (!target || !mayReach(principal, target)) throw unauthorized();
    request.account = target;
    refuseNul(params);
  });
}

/** No resource is named with a NUL character (PostgreSQL text cannot even hold one). */
function refuseNul(params: Record<string, string | undefined>): void {
  for (const key in params) {
    if (params[key]?.includes('\u0000')) throw new ResourceNotFound('A resource named with a NUL character');
  }
}

function notFound(request: FastifyRequest, reply: FastifyReply): void {
  sendRestException(reply, request, { status: 404, code: TwilioCode.notFound, message: `The requested resource ${requestPath(request)} was not found` });
}

/** Twilio's 429 / 20429 for a throttled login, with `Retry-After` (RFC 9110 §10.2.3). */
function refuseLogin(request: FastifyRequest, reply: FastifyReply, refusal: LoginRefusal): void {
  const who = refusal.by === 'address' ? 'from this address' : 'for this account from addresses new to it';
  void reply.header('retry-after', String(refusal.retryAfterSeconds));
  sendRestException(reply, request, {
    status: 429,
    code: TwilioCode.tooManyRequests,
    message: `Too many requests: too many failed logins ${who} in the last ${LOGIN_WINDOW_MS / 1000} seconds; retry after ${refusal.retryAfterSeconds} seconds`,
  });
}

export function registerAuth(app: FastifyInstance, ctx: ServiceContext, throttle: LoginThrottle): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('account', null);
  // Callback style rather than async: a request with remembered credentials on its own account
  // (nearly all of them) passes without a promise or a store read.
  app.addHook('onRequest', (request, reply, done) => {
    // An unknown route is answered before its body is read: a client without credentials can
    // make Conclave buffer nothing (a known route answers it 401 here, also unread).
    if (!request.routeOptions.url) return notFound(request, reply);
    // A route open to all (the console's static files, health) asks for nothing.
    if (request.routeOptions.config.unauthenticated === true) return done();
    const header = request.headers.authorization ?? '';
    const remembered = ctx.credentials.get(header);
    const address = clientAddress(request.raw.socket.remoteAddress);
    // A throttled address is refused whatever it sends; remembered credentials were verified,
    // so they need no check for the account.
    const refusal = throttle.check(address, remembered ? undefined : credentials(request)?.username);
    if (refusal) return refuseLogin(request, reply, refusal);
    try {
      if (remembered) {
        const pending = reach(ctx, request, remembered);
        if (!pending) return done();
        pending.then(() => done(), done);
        return;
      }
    } catch (error) {
      return done(error as Error);
    }
    const given = credentials(request);
    if (!given) return done(unauthorized());
    authenticate(ctx.store, given.username, given.password)
      .then((principal) => {
        if (!principal) {
          throttle.failed(address, given.username);
          throw unauthorized();
        }
        throttle.succeeded(address, given.username);
        ctx.credentials.remember(header, principal);
        return reach(ctx, request, principal);
      })
      .then(() => done(), done);
  });
}
