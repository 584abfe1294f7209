/**
 * The one place an error becomes a response: a Twilio-shaped RestException in the
 * representation the client asked for (reference/twilio-api.md §1.4). Client errors keep their
 * status and get a Twilio code; anything unexpected is logged and answered 500 / 20500 without
 * details, and the process carries on.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, NodeUnavailableError, ResourceNotFound, RuleViolation, StoreUnavailableError, TwilioCode } from '../errors.js';
import { formatOf } from './request-context.js';
import { renderError, type RestException } from './representation/render.js';

export function requestPath(request: FastifyRequest): string {
  const url = request.originalUrl;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function toRestException(error: unknown, request: FastifyRequest): RestException | undefined {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof ResourceNotFound) {
    return { status: 404, code: TwilioCode.notFound, message: `The requested resource ${requestPath(request)} was not found` };
  }
  if (error instanceof RuleViolation) return { status: 400, code: error.code, message: error.message };
  // The store logs the outage once (and its end); each request is only answered, not logged.
  if (error instanceof StoreUnavailableError) {
    return { status: 503, code: TwilioCode.serviceUnavailable, message: 'Service unavailable: the database cannot be reached; try again with exponential back-off' };
  }
  if (error instanceof NodeUnavailableError) {
    return { status: 503, code: TwilioCode.serviceUnavailable, message: `Service unavailable: ${error.message}; try again with exponential back-off` };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return { status: 415, code: TwilioCode.invalidParameter, message: 'Unsupported Content-Type: send application/x-www-form-urlencoded' };
    }
    return { status, code: TwilioCode.invalidParameter, message: fastifyError.message ?? 'Bad request' };
  }
  return undefined;
}

export function sendRestException(reply: FastifyReply, request: FastifyRequest, exception: RestException): void {
  const { contentType, body } = renderError(exception, formatOf(request.raw));
  if (exception.status === 401) reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
  void reply.code(exception.status).type(contentType).send(body);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    let exception = toRestException(error, request);
    if (!exception) {
      request.log.error({ err: error }, 'request failed');
      exception = { status: 500, code: TwilioCode.internal, message: 'An internal server error occurred' };
    }
    sendRestException(reply, request, exception);
  });
  app.setNotFoundHandler((request, reply) => {
    sendRestException(reply, request, {
      status: 404,
      code: TwilioCode.notFound,
      message: `The requested resource ${requestPath(request)} was not found`,
    });
  });
}
