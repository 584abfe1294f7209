/**
 * WebSocket endpoints on the API port (RFC 6455 §4: a GET with `Upgrade: websocket`). Node's
 * HTTP server hands such a request to its 'upgrade' listeners, never to fastify's routes, so
 * each WebSocket service registers its path here — `/sip` (SIP over WebSocket, RFC 7118), and
 * `/client/v1` (the browser client's signalling) — and gets the raw request and socket to
 * complete (or refuse) the handshake itself. A path nobody registered is answered 404 and closed;
 * the query string does not take part in the match.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';

/** Completes or refuses the handshake of one upgrade request (it owns `socket` from here). */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class WebSocketUpgrades {
  private readonly handlers = new Map<string, UpgradeHandler>();

  constructor(server: Server) {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.dispatch(request, socket, head));
  }

  /** Serves upgrade requests of `path` (exact, e.g. `/sip`); a path registered twice is a bug: throws. */
  register(path: string, handler: UpgradeHandler): void {
    if (this.handlers.has(path)) throw new Error(`a WebSocket endpoint is registered at ${path} already`);
    this.handlers.set(path, handler);
  }

  private dispatch(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A socket error before the handler takes over (a client gone mid-handshake) must not be unhandled.
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    const handler = this.handlers.get(path);
    if (!handler || (request.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    handler(request, socket, head);
  }
}

const perServer = new WeakMap<Server, WebSocketUpgrades>();

/** The one WebSocketUpgrades of the API's HTTP server (every caller shares it). */
export function websocketUpgrades(http: FastifyInstance): WebSocketUpgrades {
  const server = http.server;
  let upgrades = perServer.get(server);
  if (!upgrades) {
    upgrades = new WebSocketUpgrades(server);
    perServer.set(server, upgrades);
  }
  return upgrades;
}
