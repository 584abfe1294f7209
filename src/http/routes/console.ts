/**
 * The web console (issue 15 §2): static files under `/console`, open without credentials — the
 * page itself signs in, keeping the credentials in the tab's sessionStorage and sending them as
 * Basic auth on each API request, never in a URL. The files live in the repository
 * (public/console) and are read once, at start, from there whether Conclave runs from src/
 * (tsx, tests) or from the build (dist/src, `npm start`); only the files listed are served, so
 * no path of a request ever reaches the file system. The browser client the console uses
 * (issue 16: public/client/conclave-voice.js, Twilio's Voice SDK names) is served the same way
 * at `/client/conclave-voice.js`, for any page to import.
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
  'browser-phone.js': 'text/javascript; charset=utf-8',
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

/**
 * The browser client: a module another origin's page may import too (module scripts are fetched
 * with CORS), so it is open to every origin — it holds no secret, and the token a page gives it
 * is what signs in.
 */
const CLIENT_FILE = 'conclave-voice.js';
const CLIENT_HEADERS = { 'content-type': 'text/javascript; charset=utf-8', 'access-control-allow-origin': '*', 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };

/** public/<name> of the repository: three levels up from src/http/routes, four from dist/src/http/routes. */
function publicDirectory(name: string, oneFile: string): string {
  for (const up of ['../../../', '../../../../']) {
    const dir = fileURLToPath(new URL(`${up}public/${name}/`, import.meta.url));
    if (existsSync(`${dir}${oneFile}`)) return dir;
  }
  throw new Error(`the files of public/${name} are not beside ${fileURLToPath(import.meta.url)}`);
}

function loadFiles(): Map<string, Buffer> {
  const dir = publicDirectory('console', 'index.html');
  return new Map(Object.keys(FILES).map((name) => [name, readFileSync(`${dir}${name}`)]));
}

export function registerConsoleRoutes(app: FastifyInstance): void {
  const files = loadFiles();
  const client = readFileSync(`${publicDirectory('client', CLIENT_FILE)}${CLIENT_FILE}`);
  app.route({ method: ['GET', 'HEAD'], url: `/client/${CLIENT_FILE}`, config: { unauthenticated: true }, handler: (_request, reply) => reply.headers(CLIENT_HEADERS).send(client) });
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
