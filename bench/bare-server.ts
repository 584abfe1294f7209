/**
 * The baseline, run as a child process of `bench/run.ts`: a bare fastify 5 with one GET route
 * per measured endpoint, each sending a fixed string body of the same bytes and content type as
 * Conclave's answer — no auth, no store, no rendering, no hooks, logger off. It is what the
 * same machine does for "HTTP in, that many bytes out", so Conclave's figures are read as a
 * ratio of it.
 */
import Fastify from 'fastify';
import { isMessage, type BareConfigure, type BareReady, type Stop } from './protocol.js';

async function serve(configure: BareConfigure): Promise<void> {
  if (!process.send) throw new Error('bare-server.ts runs as a child of bench/run.ts (it needs an IPC channel)');
  const send = process.send.bind(process);
  const app = Fastify({ logger: false });
  for (const route of configure.routes) {
    const { contentType, body } = route;
    app.get(route.path, (_request, reply) => {
      void reply.type(contentType).send(body);
    });
  }
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });

  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await app.close();
    process.exit(code);
  };
  process.on('message', (message) => {
    if (isMessage<Stop>(message, 'stop')) void stop(0);
  });
  process.on('disconnect', () => void stop(1));
  const ready: BareReady = { type: 'ready', baseUrl };
  send(ready);
}

process.once('message', (message) => {
  if (!isMessage<BareConfigure>(message, 'configure')) {
    console.error('bare-server: expected a configure message first');
    process.exit(1);
  }
  serve(message).catch((error: unknown) => {
    console.error('bare-server failed:', error);
    process.exit(1);
  });
});
