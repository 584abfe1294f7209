/**
 * SipTransactionLayer (RFC 3261 §17.1.3, §17.2.3 matching; §18.2.1/§18.2.2 response routing):
 * dispatch, retransmission absorption, CANCEL lookup, stray messages, and no leaks.
 */
import { describe, expect, it } from 'vitest';
import { createRequest, responseTo, topVia, type SipRequest, type SipResponse } from '../../../src/sip/message.js';
import { parseSipMessage } from '../../../src/sip/parse-message.js';
import { serializeSipMessage } from '../../../src/sip/serialize-message.js';
import { SipTransactionLayer, type ServerTransaction } from '../../../src/sip/transaction/transaction-layer.js';
import { newBranch } from '../../../src/sip/transaction/transaction-key.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { aRequest } from '../helpers/messages.js';
import { RecordingTransport } from '../helpers/recording-transport.js';

const SOURCE = { host: '203.0.113.9', port: 40000 };

function setup(reliable = false) {
  const timers = new ManualTimers();
  const transport = new RecordingTransport(reliable, timers);
  const requests: Array<{ request: SipRequest; tx: ServerTransaction | undefined }> = [];
  const strays: SipResponse[] = [];
  const layer = new SipTransactionLayer({
    transport,
    timers,
    onRequest: (request, _source, tx) => requests.push({ request, tx }),
    onStrayResponse: (response) => strays.push(response),
  });
  return { timers, transport, layer, requests, strays };
}

/** Every message goes through the wire format, as it would from a socket. */
function wire<T>(message: T & (SipRequest | SipResponse)): T {
  const result = parseSipMessage(serializeSipMessage(message));
  if (!result.ok) throw new Error(result.error);
  return result.message as T;
}

describe('server side', () => {
  it('creates one transaction per new request and absorbs retransmissions', () => {
    const { layer, requests, transport } = setup();
    layer.receive(wire(aRequest('INVITE')), SOURCE);
    layer.receive(wire(aRequest('INVITE')), SOURCE);
    layer.receive(wire(aRequest('OPTIONS', 'z9hG4bKother')), SOURCE);
    expect(requests.map((r) => r.request.method)).toEqual(['INVITE', 'OPTIONS']);
    expect(layer.serverTransactionCount).toBe(2);
    expect(transport.labels()).toEqual(['100', '100']);
  });

  it('stamps received and rport and answers to the source address (RFC 3581)', () => {
    const { layer, requests, transport } = setup();
    const request = aRequest('OPTIONS', 'z9hG4bKr', { via: 'SIP/2.0/UDP 10.0.0.2:5062;rport;branch=z9hG4bKr' });
    layer.receive(wire(request), SOURCE);
    const { request: seen, tx } = requests[0]!;
    expect(topVia(seen)).toMatchObject({ received: '203.0.113.9', rport: 40000 });
    (tx as ServerTransaction).respond(responseTo(seen, 200, 't'));
    expect(transport.sent[0]?.destination).toEqual(SOURCE);
    expect(topVia(transport.sent[0]!.message)).toMatchObject({ received: '203.0.113.9', rport: 40000 });
  });

  it('answers to received and the sent-by port without rport (§18.2.2)', () => {
    const { layer, requests, transport } = setup();
    layer.receive(wire(aRequest('OPTIONS')), SOURCE);
    const { request, tx } = requests[0]!;
    tx!.respond(responseTo(request, 200, 't'));
    expect(transport.sent[0]?.destination).toEqual({ host: '203.0.113.9', port: 5062 });
  });

  it('keeps transactions apart by sent-by and method even with the same branch', () => {
    const { layer, requests } = setup();
    layer.receive(wire(aRequest('INVITE', 'z9hG4bKsame')), SOURCE);
    layer.receive(wire(aRequest('INVITE', 'z9hG4bKsame', { via: 'SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKsame' })), SOURCE);
    const cancel = wire(aRequest('CANCEL', 'z9hG4bKsame'));
    layer.receive(cancel, SOURCE);
    expect(requests.map((r) => r.request.method)).toEqual(['INVITE', 'INVITE', 'CANCEL']);
    expect(layer.inviteTransactionFor(cancel)).toBe(requests[0]?.tx);
    expect(layer.inviteTransactionFor(wire(aRequest('CANCEL', 'z9hG4bKnone')))).toBeUndefined();
  });

  it('matches the ACK of a failure to its INVITE and hands a 2xx ACK to the TU', () => {
    const { layer, requests, timers } = setup();
    layer.receive(wire(aRequest('INVITE', 'z9hG4bKi1')), SOURCE);
    requests[0]!.tx!.respond(responseTo(requests[0]!.request, 486, 't'));
    layer.receive(wire(aRequest('ACK', 'z9hG4bKi1')), SOURCE);
    expect(requests[0]!.tx!.state).toBe('confirmed');
    expect(requests).toHaveLength(1);

    layer.receive(wire(aRequest('INVITE', 'z9hG4bKi2', { cseq: 2 })), SOURCE);
    requests[1]!.tx!.respond(responseTo(requests[1]!.request, 200, 't'));
    layer.receive(wire(aRequest('ACK', 'z9hG4bKnew', { cseq: 2 })), SOURCE);
    expect(requests.map((r) => [r.request.method, r.tx === undefined])).toEqual([
      ['INVITE', false],
      ['INVITE', false],
      ['ACK', true],
    ]);
    timers.runAll();
    expect(layer.serverTransactionCount).toBe(0);
  });

  it('matches RFC 2543 requests without the magic cookie by Call-ID, CSeq, From tag and sent-by', () => {
    const { layer, requests } = setup();
    layer.receive(wire(aRequest('INVITE', 'old1')), SOURCE);
    layer.receive(wire(aRequest('INVITE', 'old1')), SOURCE);
    requests[0]!.tx!.respond(responseTo(requests[0]!.request, 486, 't'));
    layer.receive(wire(aRequest('ACK', 'whatever')), SOURCE);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.tx!.state).toBe('confirmed');
  });
});

describe('client side', () => {
  function invite(): SipRequest {
    return aRequest('INVITE', newBranch());
  }

  it('routes responses to the transaction by branch and method, strays to the TU', () => {
    const { layer, strays } = setup();
    const seen: number[] = [];
    const request = invite();
    layer.sendRequest(request, { host: 'h', port: 5060 }, (r) => seen.push(r.status));
    layer.receive(wire(responseTo(request, 180, 'u')), SOURCE);
    const cancelResponse = responseTo({ ...request, headers: request.headers.clone() }, 200, 'u');
    cancelResponse.headers.set('CSeq', '1 CANCEL');
    layer.receive(wire(cancelResponse), SOURCE);
    expect(seen).toEqual([180]);
    expect(strays.map((r) => r.headers.get('CSeq'))).toEqual(['1 CANCEL']);
  });

  it('refuses ACK, requests without a branch, duplicates, and use after close', () => {
    const { layer } = setup();
    const dest = { host: 'h', port: 1 };
    expect(() => layer.sendRequest(aRequest('ACK'), dest, () => {})).toThrow(/ACK/);
    expect(() => layer.sendRequest(createRequest('OPTIONS', 'sip:x'), dest, () => {})).toThrow(/Via/);
    const request = invite();
    layer.sendRequest(request, dest, () => {});
    expect(() => layer.sendRequest(request, dest, () => {})).toThrow(/already exists/);
    layer.close();
    expect(() => layer.sendRequest(invite(), dest, () => {})).toThrow(/closed/);
  });
});

describe('no leaks', () => {
  it('empties both maps once every timer has run out', () => {
    const { layer, timers, requests } = setup();
    for (let i = 0; i < 20; i++) {
      layer.receive(wire(aRequest(i % 2 ? 'INVITE' : 'OPTIONS', `z9hG4bKs${i}`, { cseq: i + 1 })), SOURCE);
      layer.sendRequest(aRequest(i % 2 ? 'INVITE' : 'BYE', `z9hG4bKc${i}`), { host: 'h', port: 5060 }, () => {});
    }
    const statuses = [200, 486, 180, 100];
    requests.forEach(({ request, tx }, i) => {
      const status = statuses[i % statuses.length]!;
      tx!.respond(responseTo(request, request.method === 'OPTIONS' && status === 486 ? 404 : status, 't'));
    });
    // some answered, some provisional-only: the INVITE ones left in Proceeding stay until the TU answers
    for (const { request, tx } of requests) if (tx && !tx.closed && tx.state === 'proceeding') tx.respond(responseTo(request, 480, 't'));
    expect(layer.serverTransactionCount).toBe(20);
    expect(layer.clientTransactionCount).toBe(20);
    timers.runAll();
    expect(layer.serverTransactionCount).toBe(0);
    expect(layer.clientTransactionCount).toBe(0);
    expect(timers.pending).toBe(0);
  });

  it('close() terminates everything and cancels all timers', () => {
    const { layer, timers } = setup();
    layer.receive(wire(aRequest('INVITE')), SOURCE);
    layer.sendRequest(aRequest('OPTIONS', newBranch()), { host: 'h', port: 1 }, () => {});
    layer.close();
    layer.close();
    expect(layer.closed).toBe(true);
    expect(layer.serverTransactionCount + layer.clientTransactionCount).toBe(0);
    expect(timers.pending).toBe(0);
    layer.receive(wire(aRequest('INVITE', 'z9hG4bKlate')), SOURCE); // ignored after close
    expect(layer.serverTransactionCount).toBe(0);
  });

  it('forgets a server transaction whose 100 Trying cannot be sent', () => {
    const { layer, transport, requests } = setup();
    transport.failing = true;
    layer.receive(wire(aRequest('INVITE')), SOURCE);
    expect(requests).toHaveLength(0);
    expect(layer.serverTransactionCount).toBe(0);
  });
});
