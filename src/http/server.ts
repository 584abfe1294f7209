/**
 * Builds the HTTP API (fastify) without listening: representation suffix, form bodies, auth,
 * routes, error handling, and what one client may hold of the listener (a timeout on slow
 * requests, a cap on bodies still arriving, a throttle on failed logins). `app.ts` listens;
 * tests use the same function on port 0.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../config.js';
import { LoginThrottle } from '../services/login-throttle.js';
import { answerClientError, registerProtocolChecks } from './client-errors.js';
import { registerUnfinishedBodies, UnfinishedBodies } from './unfinished-bodies.js';
import type { RecordingServiceContext } from '../services/recordings/recording-service-context.js';
import { registerAuth } from './auth.js';
import { registerErrorHandling, sendRestException } from './error-handler.js';
import { TwilioCode } from '../errors.js';
import { registerFormBody } from './form-body.js';
import { splitFormat } from './representation/format.js';
import { formatOf, tagFormat } from './request-context.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerCallRoutes } from './routes/calls.js';
import { registerConferenceRoutes } from './routes/conferences.js';
import { registerConsoleRoutes } from './routes/console.js';
import { registerConsoleTokenRoutes } from './routes/console-token.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerParticipantRoutes } from './routes/participants.js';
import { registerPhoneNumberRoutes } from './routes/phone-numbers.js';
import { registerApplicationRoutes } from './routes/applications.js';
import { registerRecordingRoutes } from './routes/recordings.js';
import { registerSipCredentialListRoutes } from './routes/sip-credential-lists.js';
import { registerSipDomainMappingRoutes } from './routes/sip-domain-mappings.js';
import { registerSipDomainRoutes } from './routes/sip-domains.js';
import { registerSipIpAccessControlListRoutes } from './routes/sip-ip-access-control-lists.js';
import { registerHealthRoutes, registerRequestMetrics, type Observability } from './routes/health.js';

/**
 * How often Node looks for requests past their timeout (its default, 30 s, would let a 30 s
 * timeout run to a minute): a quarter of the timeout, between 50 ms and 1 s. Each look walks the
 * connections that are receiving a request, in C++.
 */
function checkingInterval(timeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(timeoutMs / 4)));
}

/** Health routes, and the metrics: `/metrics` on this listener (`routes.metrics`) and each request's duration. */
export interface ApiObservability {
  routes: Observability;
  observeRequest?: (method: string, route: string, status: number, seconds: number) => void;
}

export function buildHttpServer(ctx: RecordingServiceContext, logger: Logger, limits: HttpLimits = DEFAULT_HTTP_LIMITS, observability?: ApiObservability): FastifyInstance {
  const timeout = limits.requestTimeoutMs;
  const app = Fastify({
    // Node's requestTimeout: a request (headers and body) not received in full in time is
    // answered 408 and its connection closed; headers alone get no longer, which also closes
    // connections that never send anything. fastify turns it off by default (0). An idle
    // keep-alive connection is closed after fastify's keepAliveTimeout (72 s, above the 60 s
    // idle timeout of common load balancers).
    requestTimeout: timeout,
    http: {
      ...(timeout > 0 ? { requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: checkingInterval(timeout) } : {}),
      // Answered Twilio-shaped by registerProtocolChecks instead of Node's empty 400.
      requireHostHeader: false,
    },
    clientErrorHandler: answerClientError(timeout),
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
  if (observability?.observeRequest) registerRequestMetrics(app, observability.observeRequest);
  registerProtocolChecks(app);
  registerUnfinishedBodies(app, new UnfinishedBodies(limits.maxUnfinishedBodies, timeout));
  registerFormBody(app);
  registerAuth(app, ctx, new LoginThrottle({ perAddress: limits.loginFailuresPerSource, perAccount: limits.loginFailuresPerAccount }));
  registerAccountRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerConferenceRoutes(app, ctx);
  registerParticipantRoutes(app, ctx);
  registerCallRoutes(app, ctx);
  registerPhoneNumberRoutes(app, ctx);
  registerApplicationRoutes(app, ctx);
  registerRecordingRoutes(app, ctx);
  registerSipDomainRoutes(app, ctx);
  registerSipDomainMappingRoutes(app, ctx);
  registerSipCredentialListRoutes(app, ctx);
  registerSipIpAccessControlListRoutes(app, ctx);
  registerConsoleRoutes(app);
  registerConsoleTokenRoutes(app, ctx);
  if (observability) registerHealthRoutes(app, observability.routes, 'owner');
  return app;
}
