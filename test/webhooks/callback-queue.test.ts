/**
 * CallbackQueue against real HTTP receivers: callbacks of one key arrive strictly in order even
 * when many keys are delivered concurrently; a receiver holding key A's request does not delay
 * key B; the global concurrency cap holds; timeouts and failures are logged and do not stop the
 * key; a full key drops its oldest pending callback; close drains, then drops and aborts when
 * its bound runs out. Requests are held with gates the test opens, never with sleeps.
 */
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackQueue, type CallbackDelivery, type CallbackQueueOptions } from '../../src/webhooks/callback-queue.js';
import { answer, closedPort, gate, startReceiver, type Handler, type Receiver } from '../helpers/webhook-receiver.js';

const TOKEN = 'f00dfacef00dfacef00dfacef00dface';

interface LogEntry {
  obj: Record<string, unknown>;
  msg: string;
}

const receivers: Receiver[] = [];
const queues: CallbackQueue[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
});

async function receiver(handler: Handler = (_req, res) => answer(res, 204, 'text/plain', '')): Promise<Receiver> {
  const started = await startReceiver(handler);
  receivers.push(started);
  return started;
}

function queue(options: Partial<CallbackQueueOptions> = {}): { queue: CallbackQueue; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const created = new CallbackQueue({ logger: { warn: (obj, msg) => logs.push({ obj, msg }) }, ...options });
  queues.push(created);
  return { queue: created, logs };
}

function callback(url: string, key: string, sequence: number): CallbackDelivery {
  return { url, method: 'POST', params: { Key: key, SequenceNumber: String(sequence) }, authToken: TOKEN };
}

/** Lets the event loop turn a few times, so a response is answered at a varying moment. */
async function jitter(turns: number): Promise<void> {
  for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('CallbackQueue', () => {
  it('delivers each key strictly in order while keys run concurrently', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const app = await receiver(async (_req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await jitter(1 + Math.floor(Math.random() * 5));
      inFlight -= 1;
      answer(res, 200, 'text/plain', 'ok');
    });
    const { queue: q } = queue({ concurrency: 4 });
    const keys = ['CF1', 'CF2', 'CF3', 'CF4', 'CF5', 'CF6'];
    for (let sequence = 1; sequence <= 15; sequence += 1) {
      for (const key of keys) q.enqueue(key, callback(`${app.baseUrl}/events`, key, sequence));
    }
    await q.idle();

    expect(q.delivered).toBe(90);
    expect(q.failed).toBe(0);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    for (const key of keys) {
      const sequences = app.requests.filter((r) => r.params.Key === key).map((r) => Number(r.params.SequenceNumber));
      expect(sequences).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    }
  });

  it('does not let a receiver holding key A delay key B', async () => {
    const held = gate();
    const app = await receiver(async (req, res) => {
      if (req.path === '/a') await held.promise;
      answer(res, 200, 'text/plain', 'ok');
    });
    const { queue: q } = queue();
    q.enqueue('A', callback(`${app.baseUrl}/a`, 'A', 1));
    q.enqueue('A', callback(`${app.baseUrl}/a`, 'A', 2));
    for (let sequence = 1; sequence <= 5; sequence += 1) q.enqueue('B', callback(`${app.baseUrl}/b`, 'B', sequence));

    const allDone = q.idle().then(() => 'all done');
    await q.idle('B'); // while A1 is still held by its receiver
    expect(q.delivered).toBe(5);
    expect(app.requests.filter((r) => r.params.Key === 'A')).toHaveLength(1);
    expect(q.active).toBe(1);
    expect(q.pending).toBe(1);

    held.open();
    expect(await allDone).toBe('all done');
    expect(q.delivered).toBe(7);
    expect(app.requests.filter((r) => r.params.Key === 'A').map((r) => r.params.SequenceNumber)).toEqual(['1', '2']);
  });

  it('keeps to the global concurrency cap', async () => {
    const held = gate();
    const app = await receiver(async (_req, res) => {
      await held.promise;
      answer(res, 200, 'text/plain', 'ok');
    });
    const { queue: q } = queue({ concurrency: 3 });
    for (let i = 0; i < 10; i += 1) q.enqueue(`CA${i}`, callback(`${app.baseUrl}/e`, `CA${i}`, 1));
    await app.received(3);
    expect(q.active).toBe(3);
    expect(q.pending).toBe(7);
    held.open();
    await q.idle();
    expect(q.delivered).toBe(10);
    expect(app.requests).toHaveLength(10);
  });

  it('signs callbacks so twilio.validateRequest accepts them', async () => {
    const app = await receiver();
    const { queue: q } = queue();
    q.enqueue('CF1', callback(`${app.baseUrl}/status?conf=1`, 'CF1', 1));
    await q.idle();
    const [request] = app.requests;
    expect(twilio.validateRequest(TOKEN, request!.headers['x-twilio-signature'] as string, request!.fullUrl, request!.params)).toBe(true);
  });

  it('times out a silent receiver, logs it, and moves on to the next callback of the key', async () => {
    const app = await receiver((req, res) => {
      if (req.path !== '/silent') answer(res, 200, 'text/plain', 'ok');
    });
    const { queue: q, logs } = queue({ timeoutMs: 200 });
    q.enqueue('A', callback(`${app.baseUrl}/silent`, 'A', 1));
    q.enqueue('A', callback(`${app.baseUrl}/ok`, 'A', 2));
    await q.idle();
    expect(q.failed).toBe(1);
    expect(q.delivered).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.obj).toMatchObject({ key: 'A', kind: 'timeout', code: 11200, url: `${app.baseUrl}/silent`, ms: expect.any(Number) });
    expect(logs[0]!.obj).not.toHaveProperty('err'); // one line, no stack
    expect(logs[0]!.msg).toMatch(/^status callback failed: .*, after \d+ ms$/);
    expect((logs[0]!.obj as { ms: number }).ms).toBeGreaterThanOrEqual(190);
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
  });

  it('counts non-2xx answers, refused connections and bad URLs as failures without throwing', async () => {
    const app = await receiver((_req, res) => answer(res, 500, 'text/plain', 'boom'));
    const port = await closedPort();
    const { queue: q, logs } = queue();
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 1));
    q.enqueue('A', callback(`http://127.0.0.1:${port}/e`, 'A', 2));
    expect(() => q.enqueue('A', callback('not a url', 'A', 3))).not.toThrow();
    await q.idle();
    expect(q.failed).toBe(3);
    expect(logs.map((entry) => entry.obj.kind)).toEqual(['http-status', 'connection', 'bad-url']);
    expect(logs[0]!.obj.status).toBe(500);
  });

  it('drops the oldest pending callback of a full key, and only of that key', async () => {
    const held = gate();
    const app = await receiver(async (req, res) => {
      if (req.params.Key === 'A') await held.promise;
      answer(res, 200, 'text/plain', 'ok');
    });
    const { queue: q, logs } = queue({ maxPendingPerKey: 3 });
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 1));
    await app.received(1); // A1 is in flight; A2..A6 wait in a queue of 3
    for (let sequence = 2; sequence <= 6; sequence += 1) q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', sequence));
    q.enqueue('B', callback(`${app.baseUrl}/e`, 'B', 1));
    expect(q.dropped).toBe(2);
    expect(logs.map((entry) => entry.obj.key)).toEqual(['A', 'A']);
    expect(logs[0]!.msg).toContain('dropped its oldest pending callback');

    held.open();
    await q.idle();
    const delivered = app.requests.filter((r) => r.params.Key === 'A').map((r) => r.params.SequenceNumber);
    expect(delivered).toEqual(['1', '4', '5', '6']);
    expect(q.delivered).toBe(5);
    expect(q).toMatchObject({ failed: 0, dropped: 2, pending: 0, active: 0 });
  });

  it('idle() resolves at once when nothing is queued', async () => {
    const { queue: q } = queue();
    await q.idle();
    expect(q).toMatchObject({ delivered: 0, failed: 0, dropped: 0 });
  });

  it('close() drains what is queued, then refuses new callbacks', async () => {
    const held = gate();
    const app = await receiver(async (_req, res) => {
      await held.promise;
      answer(res, 200, 'text/plain', 'ok');
    });
    const { queue: q, logs } = queue();
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 1));
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 2));
    await app.received(1);
    const closed = q.close();
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 3));
    expect(q.dropped).toBe(1);
    expect(logs[0]!.msg).toContain('closed');
    held.open();
    await closed;
    expect(q.delivered).toBe(2);
    expect(app.requests.map((r) => r.params.SequenceNumber)).toEqual(['1', '2']);
  });

  it('close() is bounded: it then drops what waits and aborts what is in flight', async () => {
    const app = await receiver(() => undefined);
    const { queue: q, logs } = queue({ timeoutMs: 10_000, closeTimeoutMs: 200 });
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 1));
    q.enqueue('A', callback(`${app.baseUrl}/e`, 'A', 2));
    q.enqueue('B', callback(`${app.baseUrl}/e`, 'B', 1));
    await app.received(2);
    const started = performance.now();
    await q.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(q).toMatchObject({ delivered: 0, failed: 2, dropped: 1, pending: 0, active: 0 });
    expect(logs.some((entry) => entry.msg.includes('closed before it drained'))).toBe(true);
    expect(logs.filter((entry) => entry.obj.kind === 'aborted')).toHaveLength(2);
  });
});
