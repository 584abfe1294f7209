/**
 * The listener of its own for `/metrics` (CONCLAVE_METRICS=port): `/metrics`, `/healthz` and
 * `/readyz`, without credentials, and nothing else — none of the API is reachable through it.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerHealthRoutes, type Observability } from './routes/health.js';

export function buildMetricsServer(observability: Observability, logger: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  registerHealthRoutes(app, observability, 'none');
  return app;
}
