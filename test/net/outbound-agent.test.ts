/**
 * The outbound agent against real sockets: a refused address is never connected to — given as a
 * literal, reached through a name, or through a redirect from an allowed server — and an
 * allowed one is. Loopback addresses stand in for internal services (127.0.0.2 is a second
 * loopback address on Linux); the link-local case, in a network namespace, is in
 * test/interop/outbound-policy.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboundRefusedError, outboundAgent } from '../../src/net/outbound-agent.js';
import { OutboundPolicy, parseNetworks } from '../../src/net/outbound-policy.js';

interface Listener {
  server: Server;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  requests: string[];
}

const listeners: Listener[] = [];
afterEach(async () => {
  for (const { server } of listeners.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(host: string, answer: (path: string) => { status: number; headers?: Record<string, string>; body?: string }): Promise<Listener> {
  const listener: Listener = { server: createServer(), port: 0, connections: 0, requests: [] };
  listener.server.on('connection', () => listener.connections++);
  listener.server.on('request', (req, res) => {
    listener.requests.push(req.url ?? '');
    const { status, headers, body } = answer(req.url ?? '');
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => listener.server.listen(0, host, resolve));
  listener.port = (listener.server.address() as AddressInfo).port;
  listeners.push(listener);
  return listener;
}

const agentFor = (allow: string, deny: string): ReturnType<typeof outboundAgent> =>
  outboundAgent(new OutboundPolicy({ allow: parseNetworks(allow), deny: parseNetworks(deny) }));

/** The refusal in a failed fetch's cause, or the error itself. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return (error as { cause?: unknown } | undefined)?.cause ?? error;
}

describe('outboundAgent', () => {
  it('connects where the policy allows', async () => {
    const ok = await listen('127.0.0.1', () => ({ status: 200, body: 'hello' }));
    const agent = agentFor('', '');
    expect(await (await fetch(`http://127.0.0.1:${ok.port}/`, { dispatcher: agent })).text()).toBe('hello');
    expect(await (await fetch(`http://localhost:${ok.port}/by-name`, { dispatcher: agent })).text()).toBe('hello');
    await agent.close();
  });

  it('never connects to a refused literal address', async () => {
    const internal = await listen('127.0.0.2', () => ({ status: 200, body: 'secret' }));
    const agent = agentFor('', '127.0.0.2/32');
    const error = await refusal(fetch(`http://127.0.0.2:${internal.port}/`, { dispatcher: agent }));
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect((error as Error).message).toBe('connection to 127.0.0.2 refused by the outbound policy: 127.0.0.2 is in CONCLAVE_WEBHOOK_DENY: 127.0.0.2/32');
    expect(internal.connections).toBe(0);
    await agent.close();
  });

  it('checks the addresses a name resolves to, not the name: refused before connecting', async () => {
    const internal = await listen('127.0.0.1', () => ({ status: 200, body: 'secret' }));
    const agent = agentFor('', '127.0.0.0/8,::1/128');
    const error = await refusal(fetch(`http://localhost:${internal.port}/`, { dispatcher: agent }));
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect((error as Error).message).toMatch(/^connection to localhost refused by the outbound policy: it resolves only to refused addresses \(.* is in CONCLAVE_WEBHOOK_DENY/);
    expect(internal.connections).toBe(0);
    await agent.close();
  });

  it('checks every hop of a redirect as a connection of its own', async () => {
    const internal = await listen('127.0.0.2', () => ({ status: 200, body: 'secret' }));
    const front = await listen('127.0.0.1', () => ({ status: 302, headers: { location: `http://127.0.0.2:${internal.port}/latest/meta-data/` } }));
    const agent = agentFor('', '127.0.0.2/32');
    const error = await refusal(fetch(`http://127.0.0.1:${front.port}/start`, { dispatcher: agent, redirect: 'follow' }));
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect(front.requests).toEqual(['/start']);
    expect(internal.connections).toBe(0);
    await agent.close();
  });

  it('refuses a metadata service by name without resolving it', async () => {
    const agent = agentFor('', '');
    const error = await refusal(fetch('http://metadata.google.internal/computeMetadata/v1/', { dispatcher: agent }));
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect((error as OutboundRefusedError).reason).toBe('metadata.google.internal is the name of a cloud metadata service');
    await agent.close();
  });
});
