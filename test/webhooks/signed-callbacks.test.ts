/**
 * SignedCallbacks against a real receiver and a real CallbackQueue: a token lookup that fails
 * for a while (the database restarting) delays the callbacks of its key, still in order and
 * correctly signed, instead of dropping them; a lookup that never succeeds is given up with a
 * warning naming the callback, and the key's later callbacks still go out.
 */
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackQueue } from '../../src/webhooks/callback-queue.js';
import { SignedCallbacks } from '../../src/webhooks/signed-callbacks.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const TOKEN = 'f00dfacef00dfacef00dfacef00dface';

const receivers: Receiver[] = [];
const queues: CallbackQueue[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

async function setUp(tokenOf: (accountSid: string) => Promise<string>, retryDelaysMs: number[]) {
  const receiver = await startReceiver((_req, res) => answer(res, 204, 'text/plain', ''));
  receivers.push(receiver);
  const warnings: Array<{ obj: object; msg: string }> = [];
  const logger = { warn: (obj: object, msg: string) => warnings.push({ obj, msg }) };
  const queue = new CallbackQueue({ logger });
  queues.push(queue);
  return { receiver, warnings, signed: new SignedCallbacks(queue, tokenOf, { retryDelaysMs, logger }) };
}

describe('SignedCallbacks', () => {
  it('waits out a token lookup that fails for a while: every callback arrives once, in order, signed', async () => {
    let failures = 3;
    const { receiver, signed, warnings } = await setUp(async () => {
      if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
      return TOKEN;
    }, [5, 5, 5, 5, 5]);
    for (let n = 1; n <= 3; n++) signed.send('CA1', 'AC1', `${receiver.baseUrl}/status`, 'POST', { CallSid: 'CA1', SequenceNumber: String(n) });
    await signed.idle();
    expect(receiver.requests.map((r) => r.params.SequenceNumber)).toEqual(['1', '2', '3']);
    for (const request of receiver.requests) {
      const signature = String(request.headers['x-twilio-signature']);
      expect(twilio.validateRequest(TOKEN, signature, request.fullUrl, request.params as Record<string, string>)).toBe(true);
    }
    expect(warnings).toEqual([]);
  });

  it('gives a callback up with a warning when the token cannot be read at all, and goes on with the next', async () => {
    let down = true;
    const { receiver, signed, warnings } = await setUp(async () => {
      if (down) throw new Error('database unavailable');
      return TOKEN;
    }, [1, 1]);
    signed.send('CA2', 'AC1', `${receiver.baseUrl}/lost`, 'POST', { CallSid: 'CA2' });
    await signed.idle();
    expect(receiver.requests).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringContaining('given up') as unknown, obj: expect.objectContaining({ url: `${receiver.baseUrl}/lost` }) as unknown })]);
    down = false;
    signed.send('CA2', 'AC1', `${receiver.baseUrl}/next`, 'POST', { CallSid: 'CA2' });
    await signed.idle();
    expect(receiver.requests.map((r) => r.path)).toEqual(['/next']);
  });
});
