/**
 * Builds the HTTP API (fastify) without listening: representation suffix, form bodies, auth,
 * routes, error handling. `app.ts` listens; tests use the same function on port 0.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CallServiceContext } from '../services/calls/call-service-context.js';
import { registerAuth } from './auth.js';
import { registerErrorHandling, sendRestException } from './error-handler.js';
import { TwilioCode } from '../errors.js';
import { registerFormBody } from './form-body.js';
import { splitFormat } from './representation/format.js';
import { formatOf, tagFormat } from './request-context.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerCallRoutes } from './routes/calls.js';
import { registerConferenceRoutes } from './routes/conferences.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerParticipantRoutes } from './routes/participants.js';
import { registerPhoneNumberRoutes } from './routes/phone-numbers.js';

export function buildHttpServer(ctx: CallServiceContext, logger: Logger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request would drown the log of a busy bridge; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // The representation is a suffix of the last path segment (`…/CA123.json`): take it off
    // before routing so each resource is routed once, and remember it for the response.
    rewriteUrl: (req) => {
      const { path, format, query } = splitFormat(req.url ?? '/');
      tagFormat(req, format);
      return path + query;
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Errors fastify meets before routing (a path with a bad percent-escape, such as an
    // unencoded `%` in a label) never reach the error handler: answer them the same way.
    frameworkErrors: (error, request, reply) => {
      sendRestException(reply, request, { status: 400, code: TwilioCode.invalidParameter, message: `Invalid URL: ${error.message}` });
    },
  });
  // A getter rather than a hook: one async step less on every request.
  app.decorateRequest('format', {
    getter(this: FastifyRequest) {
      return formatOf(this.raw);
    },
  });
  registerErrorHandling(app);
  registerFormBody(app);
  registerAuth(app, ctx);
  registerAccountRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerConferenceRoutes(app, ctx);
  registerParticipantRoutes(app, ctx);
  registerCallRoutes(app, ctx);
  registerPhoneNumberRoutes(app, ctx);
  return app;
}
