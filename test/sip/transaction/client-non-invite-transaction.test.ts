/** Non-INVITE client transaction (RFC 3261 §17.1.2): Timers E, F, K. */
import { describe, expect, it } from 'vitest';
import { responseTo, type SipResponse } from '../../../src/sip/message.js';
import { ClientNonInviteTransaction } from '../../../src/sip/transaction/client-non-invite-transaction.js';
import type { TerminationReason } from '../../../src/sip/transaction/transaction.js';
import { DEFAULT_TIMING } from '../../../src/sip/transaction/timing.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { aRequest } from '../helpers/messages.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

function setup(reliable = false) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(reliable, timers);
  const request = aRequest('BYE');
  const seen: SipResponse[] = [];
  const tx = new ClientNonInviteTransaction('k', { transport, timers, timing: DEFAULT_TIMING }, request, { host: 'h', port: 5060 }, (r) => seen.push(r));
  const ended: TerminationReason[] = [];
  tx.onTerminated((reason) => ended.push(reason));
  tx.start();
  return { timers, transport, request, tx, ended, seen };
}

describe('ClientNonInviteTransaction', () => {
  it('retransmits on Timer E (T1 doubling, capped at T2) and times out on Timer F', () => {
    const { timers, transport, ended } = setup();
    timers.advance(64 * 500);
    expect(transport.times('BYE')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(ended).toEqual(['timeout']);
    expect(timers.pending).toBe(0);
  });

  it('retransmits every T2 in Proceeding', () => {
    const { timers, transport, request, tx, seen } = setup();
    tx.receiveResponse(responseTo(request, 100));
    expect(tx.state).toBe('proceeding');
    timers.advance(9000);
    expect(transport.times('BYE')).toEqual([0, 500, 4500, 8500]);
    expect(seen.map((r) => r.status)).toEqual([100]);
  });

  it('passes the final once, absorbs retransmissions for Timer K (T4), then ends', () => {
    const { timers, transport, request, tx, seen, ended } = setup();
    const ok = responseTo(request, 200, 't');
    tx.receiveResponse(ok);
    tx.receiveResponse(ok);
    expect(seen.map((r) => r.status)).toEqual([200]);
    timers.advance(4999);
    expect(tx.state).toBe('completed');
    timers.advance(1);
    expect(ended).toEqual(['normal']);
    expect(transport.times('BYE')).toEqual([0]);
  });

  it('on a reliable transport: no retransmission, Timer K = 0, Timer F still applies', () => {
    const a = setup(true);
    a.timers.advance(64 * 500);
    expect(a.transport.times('BYE')).toEqual([0]);
    expect(a.ended).toEqual(['timeout']);
    const b = setup(true);
    b.tx.receiveResponse(responseTo(b.request, 404));
    b.timers.advance(0);
    expect(b.ended).toEqual(['normal']);
  });

  it('reports a transport error on the first send', () => {
    const timers = new ManualTimers();
    const transport = new RecordingTransport(false, timers);
    transport.failing = true;
    const tx = new ClientNonInviteTransaction('k', { transport, timers, timing: DEFAULT_TIMING }, aRequest('BYE'), { host: 'h', port: 1 }, () => {});
    const ended: TerminationReason[] = [];
    tx.onTerminated((r) => ended.push(r));
    tx.start();
    expect(ended).toEqual(['transport-error']);
    expect(timers.pending).toBe(0);
  });
});
