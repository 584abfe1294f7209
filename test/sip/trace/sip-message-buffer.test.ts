/** The per-call SIP message buffer's bounds: messages per call, text size, how long ended calls stay, and Call-IDs no call claims. */
import { describe, expect, it } from 'vitest';
import { createRequest, createResponse, type SipMessage } from '../../../src/sip/message.js';
import { KEEP_AFTER_END_MS, MAX_MESSAGES_PER_CALL, MAX_TOTAL_BYTES, SIP_MESSAGE_TEXT_LIMIT, SipMessageBuffer } from '../../../src/sip/trace/sip-message-buffer.js';

const local = { host: '127.0.0.1', port: 5060 };
const remote = { host: '192.0.2.7', port: 5062 };

function request(method: string, callId: string, body = ''): SipMessage {
  return createRequest(method, 'sip:+15005550006@127.0.0.1', [['Call-ID', callId], ['CSeq', `1 ${method}`]], body);
}

function response(status: number, method: string, callId: string): SipMessage {
  return createResponse(status, [['Call-ID', callId], ['CSeq', `1 ${method}`]]);
}

describe('SipMessageBuffer', () => {
  it('files messages seen before the call is known under it once bound, in order, with their addresses', () => {
    const buffer = new SipMessageBuffer();
    buffer.record({ direction: 'in', transport: 'udp', local, remote, message: request('INVITE', 'c1') });
    expect(buffer.messagesOf('CA1')).toEqual([]);
    buffer.bind('c1', 'CA1');
    buffer.record({ direction: 'out', transport: 'udp', local, remote, message: response(180, 'INVITE', 'c1') });
    expect(buffer.messagesOf('CA1').map((m) => [m.direction, m.source, m.destination, m.firstLine])).toEqual([
      ['in', '192.0.2.7:5062', '127.0.0.1:5060', 'INVITE sip:+15005550006@127.0.0.1 SIP/2.0'],
      ['out', '127.0.0.1:5060', '192.0.2.7:5062', 'SIP/2.0 180 Ringing'],
    ]);
  });

  it(`keeps the first ${MAX_MESSAGES_PER_CALL} messages of a call, each cut at ${SIP_MESSAGE_TEXT_LIMIT} bytes`, () => {
    const buffer = new SipMessageBuffer();
    buffer.bind('c1', 'CA1');
    for (let i = 0; i < MAX_MESSAGES_PER_CALL + 50; i++) buffer.record({ direction: 'in', transport: 'tcp', local, remote, message: request('INFO', 'c1', 'x'.repeat(20_000)) });
    const messages = buffer.messagesOf('CA1');
    expect(messages).toHaveLength(MAX_MESSAGES_PER_CALL);
    expect(Buffer.byteLength(messages[0]!.text)).toBe(SIP_MESSAGE_TEXT_LIMIT);
  });

  it(`forgets a call ${KEEP_AFTER_END_MS / 60_000} minutes after its end, not before; a live call stays`, () => {
    let now = 1_000_000;
    const buffer = new SipMessageBuffer(() => now);
    buffer.bind('ended', 'CA1');
    buffer.bind('live', 'CA2');
    buffer.record({ direction: 'in', transport: 'udp', local, remote, message: request('BYE', 'ended') });
    buffer.record({ direction: 'out', transport: 'udp', local, remote, message: response(200, 'BYE', 'ended') });
    buffer.record({ direction: 'in', transport: 'udp', local, remote, message: request('INVITE', 'live') });
    now += KEEP_AFTER_END_MS - 1_000;
    expect(buffer.messagesOf('CA1')).toHaveLength(2);
    now += 11_000; // swept at most every 10 s
    expect(buffer.messagesOf('CA1')).toEqual([]);
    now += 24 * 3_600_000;
    expect(buffer.messagesOf('CA2')).toHaveLength(1);
  });

  it('never lets Call-IDs that no call claims (a REGISTER flood) push out calls', () => {
    const buffer = new SipMessageBuffer();
    buffer.bind('call', 'CA1');
    buffer.record({ direction: 'in', transport: 'udp', local, remote, message: request('INVITE', 'call') });
    for (let i = 0; i < 10_000; i++) buffer.record({ direction: 'in', transport: 'udp', local, remote, message: request('REGISTER', `r${i}`) });
    expect(buffer.messagesOf('CA1')).toHaveLength(1);
    buffer.bind('r9999', 'CA2');
    expect(buffer.messagesOf('CA2')).toHaveLength(1);
    buffer.bind('r0', 'CA3');
    expect(buffer.messagesOf('CA3')).toEqual([]); // long pushed out of the unclaimed pool
  });

  it(`keeps all the text under ${MAX_TOTAL_BYTES / 1024 / 1024} MB, dropping the oldest calls first`, () => {
    const buffer = new SipMessageBuffer();
    const calls = Math.ceil(MAX_TOTAL_BYTES / (MAX_MESSAGES_PER_CALL * SIP_MESSAGE_TEXT_LIMIT)) + 5;
    const big = request('INFO', 'x', 'x'.repeat(SIP_MESSAGE_TEXT_LIMIT));
    for (let c = 0; c < calls; c++) {
      buffer.bind(`c${c}`, `CA${c}`);
      big.headers.set('Call-ID', `c${c}`);
      for (let i = 0; i < MAX_MESSAGES_PER_CALL; i++) buffer.record({ direction: 'in', transport: 'tcp', local, remote, message: big });
    }
    const kept = Array.from({ length: calls }, (_, c) => buffer.messagesOf(`CA${c}`).length);
    expect(kept.at(-1)).toBe(MAX_MESSAGES_PER_CALL);
    expect(kept[0]).toBe(0);
    expect(kept.reduce((a, b) => a + b, 0) * SIP_MESSAGE_TEXT_LIMIT).toBeLessThanOrEqual(MAX_TOTAL_BYTES);
  });
});
