/**
 * A real HTTP receiver on 127.0.0.1, port 0, standing in for an application's webhook server in
 * the webhook tests. It records every request (raw body, form parsed the way Express/fastify
 * parse it: a repeated key becomes an array) and lets each test decide how to answer — including
 * holding a request until the test releases it, or never answering.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query as requested. */
  path: string;
  /** The full URL as the application would reconstruct it to validate the signature. */
  fullUrl: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The form body (POST) or the query (GET), repeated keys as arrays. */
  params: Record<string, string | string[]>;
}

export type Handler = (request: ReceivedRequest, response: http.ServerResponse) => void | Promise<void>;

export interface Receiver {
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  /** Resolves once at least `count` requests have arrived. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

export function formParams(encoded: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(encoded)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[key] = [existing, value];
  }
  return params;
}

export function answer(response: http.ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType });
  response.end(body);
}

export async function startReceiver(handler: Handler): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let baseUrl = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf-8');
      const path = req.url ?? '/';
      const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path,
        fullUrl: `${baseUrl}${path}`,
        headers: req.headers,
        body,
        params: formParams(req.method === 'POST' ? body : query),
      };
      requests.push(request);
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      void Promise.resolve(handler(request, res)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    requests,
    received(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A promise with its resolve function, to hold a request until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A port nothing listens on: bind one, then close it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** TwiML per path (the query left out); a path not in it answers `<Response/>`. */
export type TwimlRoutes = Map<string, (request: ReceivedRequest) => string>;

/**
 * A TwiML app: `routes.set('/voice', (request) => '<Response>…</Response>')` decides what each
 * path answers, during the test; `files` are served as they are (audio for `<Play>`).
 */
export async function startTwimlApp(files: Record<string, { contentType: string; body: Buffer }> = {}): Promise<{ web: Receiver; routes: TwimlRoutes }> {
  const routes: TwimlRoutes = new Map();
  const web = await startReceiver((request, response) => {
    const path = request.path.split('?')[0]!;
    const file = files[path];
    if (file) {
      response.writeHead(200, { 'Content-Type': file.contentType });
      response.end(file.body);
      return;
    }
    answer(response, 200, 'text/xml', routes.get(path)?.(request) ?? '<Response/>');
  });
  return { web, routes };
}
