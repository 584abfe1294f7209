/** INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2): Timers A, B, D, M and the ACK. */
import { describe, expect, it } from 'vitest';
import { cseq, responseTo, type SipRequest, type SipResponse } from '../../../src/sip/message.js';
import { ClientInviteTransaction, buildAckForFailure } from '../../../src/sip/transaction/client-invite-transaction.js';
import type { TerminationReason } from '../../../src/sip/transaction/transaction.js';
import { DEFAULT_TIMING } from '../../../src/sip/transaction/timing.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { aRequest } from '../helpers/messages.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

function setup(reliable = false) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(reliable, timers);
  const invite = aRequest('INVITE');
  invite.headers.append('Route', '<sip:proxy.example;lr>');
  const seen: SipResponse[] = [];
  const tx = new ClientInviteTransaction('k', { transport, timers, timing: DEFAULT_TIMING }, invite, { host: 'h', port: 5060 }, (r) => seen.push(r));
  const ended: TerminationReason[] = [];
  tx.onTerminated((reason) => ended.push(reason));
  tx.start();
  return { timers, transport, invite, tx, ended, seen };
}

describe('ClientInviteTransaction', () => {
  it('retransmits on Timer A (T1 doubling, no cap) and times out on Timer B', () => {
    const { timers, transport, tx, ended } = setup();
    expect(tx.state).toBe('calling');
    timers.advance(64 * 500);
    expect(transport.times('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(ended).toEqual(['timeout']);
    expect(timers.pending).toBe(0);
  });

  it('does not retransmit on a reliable transport', () => {
    const { timers, transport, ended } = setup(true);
    timers.advance(64 * 500);
    expect(transport.times('INVITE')).toEqual([0]);
    expect(ended).toEqual(['timeout']);
  });

  it('stops retransmitting on a provisional and no longer times out', () => {
    const { timers, transport, invite, tx, seen } = setup();
    timers.advance(600);
    tx.receiveResponse(responseTo(invite, 180, 'u'));
    timers.advance(60_000);
    expect(tx.state).toBe('proceeding');
    expect(transport.times('INVITE')).toEqual([0, 500]);
    expect(seen.map((r) => r.status)).toEqual([180]);
  });

  it('passes every 2xx to the TU in Accepted, then ends on Timer M', () => {
    const { timers, invite, tx, seen, ended, transport } = setup();
    const ok = responseTo(invite, 200, 'u');
    tx.receiveResponse(ok);
    tx.receiveResponse(ok);
    tx.receiveResponse(responseTo(invite, 180, 'u'));
    expect(seen.map((r) => r.status)).toEqual([200, 200]);
    expect(tx.state).toBe('accepted');
    expect(transport.labels()).toEqual(['INVITE']); // the TU ACKs a 2xx, not the transaction
    timers.advance(64 * 500);
    expect(ended).toEqual(['normal']);
  });

  it('ACKs a failure itself, re-ACKs retransmissions without telling the TU, ends on Timer D', () => {
    const { timers, transport, invite, tx, seen, ended } = setup();
    const busy = responseTo(invite, 486, 'u');
    tx.receiveResponse(busy);
    timers.advance(1000);
    tx.receiveResponse(busy);
    expect(seen.map((r) => r.status)).toEqual([486]);
    expect(transport.times('ACK')).toEqual([0, 1000]);
    timers.advance(31_999 - 1000);
    expect(tx.state).toBe('completed');
    timers.advance(1);
    expect(ended).toEqual(['normal']);
  });

  it('uses Timer D = 0 on a reliable transport', () => {
    const { timers, invite, tx, ended } = setup(true);
    tx.receiveResponse(responseTo(invite, 503));
    timers.advance(0);
    expect(ended).toEqual(['normal']);
  });

  it('terminates when the transport fails', () => {
    const { timers, transport, ended } = setup();
    transport.failing = true;
    timers.advance(500);
    expect(ended).toEqual(['transport-error']);
    expect(timers.pending).toBe(0);
  });
});

describe('buildAckForFailure (§17.1.1.3)', () => {
  it('copies Request-URI, top Via, Route, From, Call-ID, CSeq number and the response To', () => {
    const invite: SipRequest = aRequest('INVITE', 'z9hG4bKtop', { cseq: 7 });
    invite.headers.append('Via', 'SIP/2.0/UDP second;branch=z9hG4bK2');
    invite.headers.append('Route', '<sip:p1;lr>');
    invite.headers.append('Route', '<sip:p2;lr>');
    const ack = buildAckForFailure(invite, responseTo(invite, 486, 'totag'));
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe(invite.uri);
    expect(ack.headers.getAll('Via')).toEqual(['SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKtop']);
    expect(ack.headers.getAll('Route')).toEqual(['<sip:p1;lr>', '<sip:p2;lr>']);
    expect(ack.headers.get('To')).toBe('<sip:bridge@127.0.0.1>;tag=totag');
    expect(ack.headers.get('From')).toBe(invite.headers.get('From'));
    expect(cseq(ack)).toEqual({ seq: 7, method: 'ACK' });
    expect(ack.headers.get('Max-Forwards')).toBe('70');
  });
});
