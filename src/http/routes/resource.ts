/**
 * Registering a resource path with its methods, and sending resources in the representation
 * asked for. Every method a resource does not support answers 405 / 20004 (Twilio updates with
 * POST, never PUT or PATCH).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../../domain/model.js';
import type { PageResult } from '../../domain/paging.js';
import { forbidden, InvalidStateError, methodNotAllowed } from '../../errors.js';
import type { Params } from '../form-params.js';
import type { Filter, ListRequest } from '../representation/list-page.js';
import { renderInstance, renderList } from '../representation/render.js';
import type { ResourceShape } from '../representation/resource-shape.js';
import type { Principal } from '../../services/authenticate.js';

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
type Method = 'GET' | 'POST' | 'DELETE';

export function resource(app: FastifyInstance, url: string, handlers: Partial<Record<Method, Handler>>): void {
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url,
    handler: async (request, reply) => {
      // HEAD is GET without a body (Node's http server drops the body of a HEAD response).
      const handler = handlers[(request.method === 'HEAD' ? 'GET' : request.method) as Method];
      if (!handler) throw methodNotAllowed();
      await handler(request, reply);
    },
  });
}

export function accountOf(request: FastifyRequest): Account {
  if (!request.account) throw new InvalidStateError(`route ${request.routeOptions.url ?? ''} has no {AccountSid}`);
  return request.account;
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new InvalidStateError(`route ${request.routeOptions.url ?? ''} ran without a principal`);
  return request.principal;
}

/**
 * Refuses callers who authenticated with an API key: accounts show their AuthToken and keys mint
 * credentials, so a leaked key must reach neither (like Twilio's standard keys).
 */
export function requireAuthToken(request: FastifyRequest, what: string): void {
  if (request.principal?.keySid) throw forbidden(`${what} are managed with the AccountSid and AuthToken, not with an API key`);
}

export function paramsOf(request: FastifyRequest): Record<string, string> {
  return request.params as Record<string, string>;
}

/** Form fields of a POST; an absent or empty body is no fields. */
export function formOf(request: FastifyRequest): Params {
  const body = request.body;
  return body && typeof body === 'object' ? (body as Params) : {};
}

export function queryOf(request: FastifyRequest): Params {
  return request.query as Params;
}

export function sendInstance<T>(reply: FastifyReply, request: FastifyRequest, shape: ResourceShape<T>, item: T, status = 200): void {
  const { contentType, body } = renderInstance(shape, item, request.format);
  void reply.code(status).type(contentType).send(body);
}

export function sendList<T>(
  reply: FastifyReply,
  request: FastifyRequest,
  shape: ResourceShape<T>,
  path: string,
  filters: readonly Filter[],
  list: ListRequest,
  result: PageResult<T>,
): void {
  const { contentType, body } = renderList(shape, path, filters, list, result, request.format);
  void reply.code(200).type(contentType).send(body);
}

/** Filters as the client spelled them, to carry into page links. */
export function echoFilters(query: Params, names: readonly string[]): Filter[] {
  const out: Filter[] = [];
  for (const name of names) {
    const value = query[name];
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined && last !== '') out.push([name, last]);
  }
  return out;
}
