/**
 * Twilio's request bodies are `application/x-www-form-urlencoded`; fastify has no parser for
 * them. Repeated keys become arrays, as twilio-node sends list parameters
 * (`StatusCallbackEvent=a&StatusCallbackEvent=b`, reference/twilio-api.md §1.6).
 * Any other body (JSON, plain text, multipart…) is refused with 415 rather than half-read:
 * fastify's own JSON and text parsers are removed. An empty body is accepted whatever its
 * Content-Type says, since some clients label a bodyless POST or DELETE.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, TwilioCode } from '../errors.js';
import type { Params } from './form-params.js';

const BODY_LIMIT = 1_048_576;

export function parseForm(body: string): Params {
  const params: Params = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

export function registerFormBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else done(new ApiError(415, TwilioCode.invalidParameter, 'Unsupported Content-Type: send application/x-www-form-urlencoded'));
  });
}
