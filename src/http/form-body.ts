/**
 * Twilio's request bodies are `application/x-www-form-urlencoded`; fastify has no parser for
 * them. Repeated keys become arrays, as twilio-node sends list parameters
 * (`StatusCallbackEvent=a&StatusCallbackEvent=b`, reference/twilio-api.md §1.6).
 */
import type { FastifyInstance } from 'fastify';
import type { Params } from './form-params.js';

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
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1_048_576 }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });
}
