/**
 * A browser's signalling connection to `/client/v1`, as a test drives it: sends JSON messages,
 * keeps every message received and waits for the next of a type (or the close).
 */
import { WebSocket } from 'ws';
import { until } from './until.js';

export type ServerMessage = Record<string, unknown> & { type: string };

export class ClientSocket {
  readonly received: ServerMessage[] = [];
  private taken = 0;
  closeCode: number | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.received.push(JSON.parse(String(data)) as ServerMessage));
    ws.on('close', (code) => (this.closeCode = code));
  }

  static async open(baseUrl: string): Promise<ClientSocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/client/v1`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new ClientSocket(ws);
  }

  /** Opens a connection and registers with `token`; resolves with the answer (`registered` or `error`). */
  static async register(baseUrl: string, token: string, extra: Record<string, unknown> = {}): Promise<{ socket: ClientSocket; answer: ServerMessage }> {
    const socket = await ClientSocket.open(baseUrl);
    socket.send({ type: 'register', token, ...extra });
    const answer = await socket.next((m) => m.type === 'registered' || m.type === 'error');
    return { socket, answer };
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message (after those already taken) matching `match`, a type or a predicate. */
  async next(match: string | ((m: ServerMessage) => boolean), timeoutMs = 10_000): Promise<ServerMessage> {
    const test = typeof match === 'string' ? (m: ServerMessage) => m.type === match : match;
    return until(
      () => {
        for (let i = this.taken; i < this.received.length; i++) {
          const message = this.received[i]!;
          if (test(message)) {
            this.taken = i + 1;
            return message;
          }
        }
        return undefined;
      },
      timeoutMs,
      () => `a ${typeof match === 'string' ? match : 'matching'} message; received ${JSON.stringify(this.received.map((m) => m.type))}`,
    );
  }

  /** Resolves with the close code once the server closed the connection. */
  closed(timeoutMs = 10_000): Promise<number> {
    return until(() => this.closeCode, timeoutMs, 'the connection to close');
  }

  close(): void {
    this.ws.close();
  }
}
