/**
 * A cap on request bodies still arriving from one client address. Node's `requestTimeout` closes
 * a body that has not arrived in full in time (server.ts), but until then each one holds its
 * connection and what it sent so far — 1,000 half-sent bodies from one client took the process
 * from 87 MB to 1 GB (issue #10). Neither Node nor fastify limits this per client, hence this file.
 *
 * A body counts from its headers until the HTTP parser has read its last byte
 * (`IncomingMessage.complete`), whether or not a route consumed it; a form post of a few KB
 * arrives with its headers and is never counted for long. The (N+1)th is answered 429 / 20429
 * with `Retry-After` (when the oldest of the N will have timed out) and its connection closed.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { TwilioCode } from '../errors.js';
import { clientAddress } from './client-address.js';
import { sendRestException } from './error-handler.js';

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function stillArriving(req: IncomingMessage): boolean {
  return !req.complete && !req.destroyed && !req.socket.destroyed;
}

export class UnfinishedBodies {
  /** Per client address: the requests whose bodies may still be arriving, and when each began. */
  private readonly byClient = new Map<string, Map<IncomingMessage, number>>();

  constructor(
    /** Bodies per client address; 0 = no cap. */
    readonly max: number,
    private readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts `req` and returns undefined, or returns the seconds to wait when its client is at the cap. */
  admit(req: IncomingMessage, client: string): number | undefined {
    if (this.max === 0) return undefined;
    const pending = this.byClient.get(client) ?? new Map<IncomingMessage, number>();
    for (const [other] of pending) if (!stillArriving(other)) pending.delete(other);
    if (pending.size >= this.max) {
      let oldest = Infinity;
      for (const began of pending.values()) oldest = Math.min(oldest, began);
      return this.timeoutMs === 0 ? 1 : Math.max(1, Math.ceil((oldest + this.timeoutMs - this.now()) / 1000));
    }
    pending.set(req, this.now());
    this.byClient.set(client, pending);
    // A request answered before its body arrived (a 401, say) is not closed when its connection
    // is: forget it on whichever comes first.
    const socket = req.socket;
    const forget = (): void => {
      req.off('close', forget);
      socket.off('close', forget);
      pending.delete(req);
      if (pending.size === 0 && this.byClient.get(client) === pending) this.byClient.delete(client);
    };
    req.once('close', forget);
    socket.once('close', forget);
    return undefined;
  }
}

/** Refuses, before authentication, a body over its client's cap. */
export function registerUnfinishedBodies(app: FastifyInstance, bodies: UnfinishedBodies): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (bodies.max === 0 || !hasBody(request.raw)) return done();
    const client = clientAddress(request.raw.socket.remoteAddress);
    const retryAfter = bodies.admit(request.raw, client);
    if (retryAfter === undefined) return done();
    // Its body is left unread: the connection cannot carry another request, so it is closed.
    void reply.header('retry-after', String(retryAfter)).header('connection', 'close');
    sendRestException(reply, request, {
      status: 429,
      code: TwilioCode.tooManyRequests,
      message: `Too many requests: ${bodies.max} request bodies from ${client} are still arriving; finish or close one, or retry after ${retryAfter} seconds`,
    });
  });
}
