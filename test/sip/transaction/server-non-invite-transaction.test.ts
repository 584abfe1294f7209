/** Non-INVITE server transaction (RFC 3261 §17.2.2): Trying, Proceeding, Completed, Timer J. */
import { describe, expect, it } from 'vitest';
import { responseTo } from '../../../src/sip/message.js';
import { ServerNonInviteTransaction } from '../../../src/sip/transaction/server-non-invite-transaction.js';
import type { TerminationReason } from '../../../src/sip/transaction/transaction.js';
import { DEFAULT_TIMING } from '../../../src/sip/transaction/timing.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { aRequest } from '../helpers/messages.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

function setup(reliable = false) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(reliable, timers);
  const request = aRequest('OPTIONS');
  const tx = new ServerNonInviteTransaction('k', { transport, timers, timing: DEFAULT_TIMING }, request, { host: 'h', port: 1 });
  const ended: TerminationReason[] = [];
  tx.onTerminated((reason) => ended.push(reason));
  return { timers, transport, request, tx, ended };
}

describe('ServerNonInviteTransaction', () => {
  it('absorbs retransmissions in Trying', () => {
    const { transport, request, tx } = setup();
    tx.receiveRequest(request);
    expect(tx.state).toBe('trying');
    expect(transport.sent).toEqual([]);
  });

  it('resends the last provisional in Proceeding and the final in Completed', () => {
    const { transport, request, tx } = setup();
    tx.respond(responseTo(request, 183));
    tx.receiveRequest(request);
    tx.respond(responseTo(request, 200, 't'));
    tx.receiveRequest(request);
    tx.receiveRequest(request);
    expect(transport.labels()).toEqual(['183', '183', '200', '200', '200']);
  });

  it('ends on Timer J: 64*T1 unreliable, 0 reliable', () => {
    const a = setup();
    a.tx.respond(responseTo(a.request, 200, 't'));
    a.timers.advance(31_999);
    expect(a.tx.state).toBe('completed');
    a.timers.advance(1);
    expect(a.ended).toEqual(['normal']);

    const b = setup(true);
    b.tx.respond(responseTo(b.request, 200, 't'));
    b.timers.advance(0);
    expect(b.ended).toEqual(['normal']);
    expect(b.timers.pending).toBe(0);
  });

  it('refuses a second final response', () => {
    const { request, tx } = setup();
    tx.respond(responseTo(request, 200, 't'));
    expect(() => tx.respond(responseTo(request, 500))).toThrow(/completed/);
  });

  it('terminates on a transport error', () => {
    const { request, tx, transport, ended, timers } = setup();
    transport.failing = true;
    tx.respond(responseTo(request, 200, 't'));
    expect(ended).toEqual(['transport-error']);
    expect(timers.pending).toBe(0);
  });
});
