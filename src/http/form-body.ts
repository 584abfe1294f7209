/**
 * Twilio's request bodies are `application/x-www-form-urlencoded`; fastify has no parser for
 * them. Repeated keys become arrays, as twilio-node sends list parameters
 * (`StatusCallbackEvent=a&StatusCallbackEvent=b`, reference/twilio-api.md §1.6).
 * Any other body (JSON, plain text, multipart…) is refused with 415 rather than half-read:
 * fastify's own JSON and text parsers are removed. An empty body is accepted whatever its
 * Content-Type says, since some clients label a bodyless POST or DELETE.
 *
 * Parsing is linear in the body: a repeated key's values are pushed onto one array (copying the
 * array on each repeat made 60,000 `a=&` pairs cost 37 s of a blocked event loop, issue #10),
 * and a body of more than MAX_FORM_PARAMETERS pairs is refused before it is decoded at all.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, TwilioCode } from '../errors.js';
import type { Params } from './form-params.js';

const BODY_LIMIT = 1_048_576;

/**
 * The most form parameters one request may carry: body-parser's (qs `parameterLimit`) and Node's
 * `querystring` (`maxKeys`) default. Twilio's largest operation, Create Participant, has fewer
 * than 80 parameters, and its list parameters repeat a handful of times.
 */
export const MAX_FORM_PARAMETERS = 1000;

/** How many `&`-separated pairs a body holds, counting no further than `limit + 1`. */
function countPairs(body: string, limit: number): number {
  let pairs = 0;
  let start = 0;
  while (start <= body.length && pairs <= limit) {
    const end = body.indexOf('&', start);
    const stop = end === -1 ? body.length : end;
    if (stop > start) pairs++; // URLSearchParams skips empty pairs (`&&`) too
    if (end === -1) break;
    start = end + 1;
  }
  return pairs;
}

/**
 * The parameters of a form body (WHATWG URL-encoded parsing: `+` is a space, a broken
 * percent-escape is read literally). A null-prototype object, so that keys such as `__proto__`
 * are plain keys. Throws a 400 naming the limit when the body has more than `limit` pairs.
 */
export function parseForm(body: string, limit = MAX_FORM_PARAMETERS): Params {
  if (countPairs(body, limit) > limit) {
    throw new ApiError(400, TwilioCode.invalidParameter, `Too many parameters: a request may carry at most ${limit} form parameters`);
  }
  const params = Object.create(null) as Params;
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[key] = [existing, value];
  }
  return params;
}

export function registerFormBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else done(new ApiError(415, TwilioCode.invalidParameter, 'Unsupported Content-Type: send application/x-www-form-urlencoded'));
  });
}
