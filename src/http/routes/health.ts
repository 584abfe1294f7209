/**
 * Health and metrics routes: `/healthz` (the process answers: 200 `{"status":"ok"}`), `/readyz`
 * (200 or 503 with each check and the reason of a failure; metrics/readiness.ts) and, when
 * asked for, `/metrics` in Prometheus' text format. Health needs no credentials (probes send
 * none). `/metrics` on the API listener asks for an owner account's credentials or one of its
 * API keys (Prometheus' `basic_auth`): it counts every account's calls, which is neither a
 * stranger's business nor a subaccount's. On a listener of its own (http/metrics-server.ts) it
 * is open, that listener being the operator's to put on a private network.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden } from '../../errors.js';

export interface HealthReport {
  ready: boolean;
  checks: Record<string, { status: 'ok' | 'failed'; reason?: string }>;
}

export interface Observability {
  readiness(): Promise<HealthReport>;
  /** Undefined: no `/metrics` on this listener. */
  metrics?: { exposition(): Promise<{ contentType: string; text: string }> };
}

/** Routes kept out of the HTTP request metrics: probes and scrapes every few seconds are not API traffic. */
export const UNMEASURED_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export function registerHealthRoutes(app: FastifyInstance, observability: Observability, metricsAuth: 'owner' | 'none'): void {
  app.get('/healthz', { config: { unauthenticated: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { unauthenticated: true } }, async (_request, reply) => {
    const report = await observability.readiness();
    return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ok' : 'unavailable', checks: report.checks });
  });
  const metrics = observability.metrics;
  if (!metrics) return;
  app.get('/metrics', { config: { unauthenticated: metricsAuth === 'none' } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const account = request.principal?.account;
    if (metricsAuth === 'owner' && (!account || account.ownerAccountSid !== account.sid)) throw forbidden('The metrics of this server are for its owner accounts, not subaccounts');
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).send(text);
  });
}

/** Observes each API request's duration by its route pattern (never the raw URL, which holds SIDs). */
export function registerRequestMetrics(app: FastifyInstance, observe: (method: string, route: string, status: number, seconds: number) => void): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined || !UNMEASURED_ROUTES.has(route)) observe(request.method, route ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
