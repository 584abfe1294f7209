/**
 * The browser signalling endpoint, `GET /client/v1` on the API port: completes the WebSocket
 * handshake (RFC 6455 §4.2, by the `ws` package) of the upgrades routed here and makes one
 * ClientSession per connection; keeps them all so shutdown can close them (an upgraded socket
 * is no longer the HTTP server's, so closing the server would leave it open).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { CloseCode, MAX_MESSAGE_BYTES } from './client-protocol.js';
import { ClientSession, type SessionHooks } from './client-session.js';

export const CLIENT_SIGNALLING_PATH = '/client/v1';
/** How long a browser has to answer the server's close at shutdown. */
const CLOSE_GRACE_MS = 1000;

export class ClientHub {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private readonly sessions = new Set<ClientSession>();
  private closing = false;

  constructor(
    private readonly hooks: SessionHooks,
    private readonly timing: { registerTimeoutMs?: number; pingIntervalMs?: number } = {},
  ) {}

  /** Takes an upgrade request of `/client/v1` (websocket-upgrades.ts routes it here). */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => {
      const session = new ClientSession(ws, this.hooks, this.timing);
      this.sessions.add(session);
      session.observer.once('close', () => this.sessions.delete(session));
    });
  }

  /**
   * Closes every session (1001 going away); their calls lose their browser. A browser that has
   * not answered the close within CLOSE_GRACE_MS is cut off: the HTTP server's close waits for
   * every upgraded socket. Idempotent.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    for (const session of this.sessions) session.close(CloseCode.goingAway, 'server shutting down');
    if (this.sessions.size > 0) setTimeout(() => this.sessions.forEach((session) => session.terminate()), CLOSE_GRACE_MS).unref();
    this.server.close();
  }
}
