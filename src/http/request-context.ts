/**
 * What the edge learns about a request before a route runs: its representation (from the URL
 * suffix, taken off in `rewriteUrl`), the caller (from Basic auth) and the account the path names.
 */
import type { IncomingMessage } from 'node:http';
import type { Account } from '../domain/model.js';
import type { Format } from './representation/format.js';
import type { Principal } from '../services/authenticate.js';

declare module 'fastify' {
  interface FastifyRequest {
    format: Format;
    principal: Principal | null;
    /** The account named by `{AccountSid}` in the path, once the caller may reach it. */
    account: Account | null;
  }
}

const FORMAT = Symbol('conclave.format');
type Tagged = IncomingMessage & { [FORMAT]?: Format };

export function tagFormat(raw: IncomingMessage, format: Format): void {
  (raw as Tagged)[FORMAT] = format;
}

export function formatOf(raw: IncomingMessage): Format {
  return (raw as Tagged)[FORMAT] ?? 'xml';
}
