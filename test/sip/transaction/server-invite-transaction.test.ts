/** INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1): Timers G, H, I, L. */
import { describe, expect, it } from 'vitest';
import { responseTo } from '../../../src/sip/message.js';
import { ServerInviteTransaction } from '../../../src/sip/transaction/server-invite-transaction.js';
import type { TerminationReason } from '../../../src/sip/transaction/transaction.js';
import { DEFAULT_TIMING } from '../../../src/sip/transaction/timing.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { aRequest } from '../helpers/messages.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

const DEST = { host: '10.0.0.2', port: 5062 };

function setup(reliable = false, sendTrying = true) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(reliable, timers);
  const invite = aRequest('INVITE');
  const tx = new ServerInviteTransaction('k', { transport, timers, timing: DEFAULT_TIMING }, invite, DEST, { sendTrying });
  const ended: TerminationReason[] = [];
  tx.onTerminated((reason) => ended.push(reason));
  return { timers, transport, invite, tx, ended };
}

describe('ServerInviteTransaction', () => {
  it('sends 100 Trying at once, without a To tag, and resends the latest provisional on retransmission', () => {
    const { transport, invite, tx } = setup();
    expect(tx.state).toBe('proceeding');
    expect(transport.labels()).toEqual(['100']);
    expect(transport.sent[0]?.destination).toEqual(DEST);
    expect(transport.sent[0]?.message.headers.get('To')).toBe('<sip:bridge@127.0.0.1>');
    tx.receiveRequest(invite);
    tx.respond(responseTo(invite, 180, 'tt'));
    tx.receiveRequest(invite);
    expect(transport.labels()).toEqual(['100', '100', '180', '180']);
  });

  it('copies the Timestamp into the 100 Trying (§8.2.6.1)', () => {
    const timers = new ManualTimers();
    const transport = new RecordingTransport(false, timers);
    const invite = aRequest('INVITE');
    invite.headers.append('Timestamp', '54.2');
    new ServerInviteTransaction('k', { transport, timers, timing: DEFAULT_TIMING }, invite, DEST);
    expect(transport.sent[0]?.message.headers.get('Timestamp')).toBe('54.2');
  });

  it('can skip the 100 Trying', () => {
    const { transport } = setup(false, false);
    expect(transport.sent).toEqual([]);
  });

  it('retransmits a failure on Timer G (T1 doubling to T2) until Timer H, then times out', () => {
    const { timers, transport, invite, tx, ended } = setup();
    tx.respond(responseTo(invite, 486, 'tt'));
    expect(tx.state).toBe('completed');
    timers.advance(64 * 500);
    expect(transport.times('486')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(tx.state).toBe('terminated');
    expect(ended).toEqual(['timeout']);
    expect(timers.pending).toBe(0);
  });

  it('stops on ACK (Confirmed), absorbs ACKs for Timer I (T4), then ends normally', () => {
    const { timers, transport, invite, tx, ended } = setup();
    tx.respond(responseTo(invite, 603, 'tt'));
    timers.advance(600);
    const ack = aRequest('ACK');
    expect(tx.receiveRequest(ack)).toBe(true);
    expect(tx.state).toBe('confirmed');
    expect(tx.receiveRequest(ack)).toBe(true);
    tx.receiveRequest(invite); // a late INVITE retransmission is absorbed too
    timers.advance(4999);
    expect(tx.state).toBe('confirmed');
    timers.advance(1);
    expect(ended).toEqual(['normal']);
    expect(transport.times('603')).toEqual([0, 500]);
    expect(timers.pending).toBe(0);
  });

  it('resends the failure on each INVITE retransmission in Completed', () => {
    const { transport, invite, tx } = setup();
    tx.respond(responseTo(invite, 404, 'tt'));
    tx.receiveRequest(invite);
    expect(transport.labels()).toEqual(['100', '404', '404']);
  });

  it('does not retransmit on a reliable transport and confirms with Timer I = 0', () => {
    const { timers, transport, invite, tx, ended } = setup(true);
    tx.respond(responseTo(invite, 486, 'tt'));
    timers.advance(10_000);
    expect(transport.times('486')).toEqual([0]);
    expect(tx.state).toBe('completed');
    tx.receiveRequest(aRequest('ACK'));
    timers.advance(0);
    expect(ended).toEqual(['normal']);
  });

  it('after a 2xx, absorbs INVITE retransmissions in Accepted for Timer L (64*T1)', () => {
    const { timers, transport, invite, tx, ended } = setup();
    const ok = responseTo(invite, 200, 'tt');
    tx.respond(ok);
    expect(tx.state).toBe('accepted');
    tx.receiveRequest(invite);
    tx.respond(ok); // the TU's own retransmission passes through
    expect(tx.receiveRequest(aRequest('ACK'))).toBe(false); // an ACK here belongs to the TU
    expect(transport.labels()).toEqual(['100', '200', '200']);
    timers.advance(64 * 500 - 1);
    expect(tx.state).toBe('accepted');
    timers.advance(1);
    expect(ended).toEqual(['normal']);
  });

  it('refuses responses out of state, and a transport error terminates it', () => {
    const { invite, tx, transport, ended } = setup();
    tx.respond(responseTo(invite, 486, 'tt'));
    expect(() => tx.respond(responseTo(invite, 200, 'tt'))).toThrow(/cannot respond in state completed/);
    transport.failing = true;
    tx.receiveRequest(invite);
    expect(ended).toEqual(['transport-error']);
  });

  it('close() is idempotent and cancels its timers', () => {
    const { timers, invite, tx, ended } = setup();
    tx.respond(responseTo(invite, 486, 'tt'));
    tx.close();
    tx.close();
    expect(ended).toEqual(['closed']);
    expect(timers.pending).toBe(0);
  });
});
