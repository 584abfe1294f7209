/** Via stamping (§18.2.1, RFC 3581 §4), response routing (§18.2.2) and transaction keys (§17). */
import { describe, expect, it } from 'vitest';
import { responseTo } from '../../../src/sip/message.js';
import { clientTransactionKey, newBranch, serverTransactionKey } from '../../../src/sip/transaction/transaction-key.js';
import { responseDestination, stampReceived } from '../../../src/sip/transaction/transport.js';
import { aRequest } from '../helpers/messages.js';

describe('stampReceived', () => {
  it('adds received only when the source differs from sent-by', () => {
    const same = aRequest('OPTIONS', 'z9hG4bK1', { via: 'SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK1' });
    stampReceived(same, { host: '10.0.0.2', port: 5062 });
    expect(same.headers.get('Via')).toBe('SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK1');
    const natted = aRequest('OPTIONS', 'z9hG4bK1');
    natted.headers.append('Via', 'SIP/2.0/UDP second;branch=z9hG4bK0');
    stampReceived(natted, { host: '198.51.100.1', port: 1234 });
    expect(natted.headers.getAll('Via')).toEqual([
      'SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK1;received=198.51.100.1',
      'SIP/2.0/UDP second;branch=z9hG4bK0',
    ]);
  });

  it('fills rport and received when asked, even from the same host', () => {
    const request = aRequest('OPTIONS', 'x', { via: 'SIP/2.0/UDP 10.0.0.2:5062;rport;branch=x' });
    stampReceived(request, { host: '10.0.0.2', port: 6000 });
    expect(request.headers.get('Via')).toBe('SIP/2.0/UDP 10.0.0.2:5062;rport=6000;branch=x;received=10.0.0.2');
    expect(responseDestination(request, { host: '10.0.0.2', port: 6000 }, false)).toEqual({ host: '10.0.0.2', port: 6000 });
  });
});

describe('responseDestination', () => {
  it('uses sent-by, defaulting the port to 5060, and the source on reliable transports', () => {
    const request = aRequest('OPTIONS', 'x', { via: 'SIP/2.0/UDP client.example;branch=x' });
    expect(responseDestination(request, { host: '1.2.3.4', port: 9 }, false)).toEqual({ host: 'client.example', port: 5060 });
    expect(responseDestination(request, { host: '1.2.3.4', port: 9 }, true)).toEqual({ host: '1.2.3.4', port: 9 });
  });
});

describe('transaction keys', () => {
  it('match ACK to INVITE on the server, and separate CANCEL', () => {
    expect(serverTransactionKey(aRequest('ACK'))).toBe(serverTransactionKey(aRequest('INVITE')));
    expect(serverTransactionKey(aRequest('CANCEL'))).not.toBe(serverTransactionKey(aRequest('INVITE')));
    expect(serverTransactionKey(aRequest('INVITE', 'z9hG4bKa'))).not.toBe(serverTransactionKey(aRequest('INVITE', 'z9hG4bKb')));
  });

  it('compare sent-by case-insensitively with the default port', () => {
    const a = aRequest('BYE', 'z9hG4bKa', { via: 'SIP/2.0/UDP Host.Example;branch=z9hG4bKa' });
    const b = aRequest('BYE', 'z9hG4bKa', { via: 'SIP/2.0/UDP host.example:5060;branch=z9hG4bKa' });
    expect(serverTransactionKey(a)).toBe(serverTransactionKey(b));
  });

  it('key client transactions by branch and CSeq method', () => {
    const invite = aRequest('INVITE', 'z9hG4bKc');
    expect(clientTransactionKey(responseTo(invite, 200))).toBe(clientTransactionKey(invite));
    const cancel = aRequest('CANCEL', 'z9hG4bKc');
    expect(clientTransactionKey(responseTo(cancel, 200))).not.toBe(clientTransactionKey(invite));
  });

  it('makes fresh magic-cookie branches', () => {
    const a = newBranch();
    expect(a).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    expect(newBranch()).not.toBe(a);
  });
});
