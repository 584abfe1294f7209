/**
 * The web console (issue 15 §2): static files under `/console`, open without credentials — the
 * page itself signs in, keeping the credentials in the tab's sessionStorage and sending them as
 * Basic auth on each API request, never in a URL. The files live in the repository
 * (public/console) and are read once, at start, from there whether Conclave runs from src/
 * (tsx, tests) or from the build (dist/src, `npm start`); only the files listed are served, so
 * no path of a request ever reaches the file system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ResourceNotFound } from '../../errors.js';
import { paramsOf } from './resource.js';

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'event-stream.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
};

/**
 * Nothing but the console's own files and the API of this origin: a script injected through a
 * label or a name shown on the page could neither run nor send the credentials elsewhere.
 */
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** public/console of the repository: three levels up from src/http/routes, four from dist/src/http/routes. */
function consoleDirectory(): string {
  for (const up of ['../../../', '../../../../']) {
    const dir = fileURLToPath(new URL(`${up}public/console/`, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`the console's files (public/console) are not beside ${fileURLToPath(import.meta.url)}`);
}

function loadFiles(): Map<string, Buffer> {
  const dir = consoleDirectory();
  return new Map(Object.keys(FILES).map((name) => [name, readFileSync(`${dir}${name}`)]));
}

export function registerConsoleRoutes(app: FastifyInstance): void {
  const files = loadFiles();
  const send = (reply: FastifyReply, name: string): FastifyReply => reply.headers({ ...HEADERS, 'content-type': FILES[name]! }).send(files.get(name));
  app.route({ method: ['GET', 'HEAD'], url: '/console', config: { unauthenticated: true }, handler: (_request, reply) => send(reply, 'index.html') });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/console/:file',
    config: { unauthenticated: true },
    handler: (request, reply) => {
      const name = paramsOf(request).file ?? '';
      if (!files.has(name)) throw new ResourceNotFound(`The console file ${name}`);
      return send(reply, name);
    },
  });
}
