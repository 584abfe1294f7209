/** SipDialog (RFC 3261 §12): creation on both sides, in-dialog requests, matching, CSeq order. */
import { describe, expect, it } from 'vitest';
import { dialogIdOfRequest, SipDialog, uriDestination } from '../../src/sip/dialog/dialog.js';
import { createRequest, cseq, fromHeader, responseTo, toHeader } from '../../src/sip/message.js';

function invite() {
  return createRequest('INVITE', 'sip:bob@10.0.0.2', [
    ['Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1'],
    ['Record-Route', '<sip:p1.example.com;lr>'],
    ['Record-Route', '<sip:p2.example.com;lr>'],
    ['From', '"Alice" <sip:alice@example.com>;tag=a1'],
    ['To', '<sip:bob@example.com>'],
    ['Call-ID', 'c1'],
    ['CSeq', '10 INVITE'],
    ['Contact', '<sip:alice@10.0.0.1:5060>'],
  ]);
}

function ok() {
  const response = responseTo(invite(), 200, 'b1');
  for (const rr of invite().headers.getAll('Record-Route')) response.headers.append('Record-Route', rr);
  response.headers.append('Contact', '<sip:bob@10.0.0.2:5070>');
  return response;
}

describe('SipDialog', () => {
  it('UAS: route set in order, remote target from Contact, remote seq from CSeq (§12.1.1)', () => {
    const d = SipDialog.asUas(invite(), ok(), '<sip:bridge@10.0.0.2:5070>')!;
    expect(d.id).toEqual({ callId: 'c1', localTag: 'b1', remoteTag: 'a1' });
    expect(d.state).toBe('confirmed');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:alice@10.0.0.1:5060');
    expect(d.remoteSeq).toBe(10);
    expect(d.localSeq).toBeUndefined();
  });

  it('UAC: route set reversed, local seq from the INVITE (§12.1.2); early on a 1xx', () => {
    const d = SipDialog.asUac(invite(), ok(), '<sip:alice@10.0.0.1:5060>')!;
    expect(d.id).toEqual({ callId: 'c1', localTag: 'a1', remoteTag: 'b1' });
    expect(d.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:bob@10.0.0.2:5070');
    expect(d.localSeq).toBe(10);
    const ringing = responseTo(invite(), 180, 'b1');
    const early = SipDialog.asUac(invite(), ringing, '<sip:alice@10.0.0.1>')!;
    expect(early.state).toBe('early');
    early.confirm(ok());
    expect(early.state).toBe('confirmed');
    expect(early.remoteTarget).toBe('sip:bob@10.0.0.2:5070');
  });

  it('builds in-dialog requests with loose routing and an incrementing CSeq (§12.2.1.1)', () => {
    const d = SipDialog.asUac(invite(), ok(), '<sip:alice@10.0.0.1:5060>')!;
    const bye = d.createRequest('BYE', { via: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2' });
    expect(bye.uri).toBe('sip:bob@10.0.0.2:5070');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(cseq(bye)).toEqual({ seq: 11, method: 'BYE' });
    expect(fromHeader(bye)).toMatchObject({ uri: 'sip:alice@example.com', tag: 'a1' });
    expect(toHeader(bye)).toMatchObject({ uri: 'sip:bob@example.com', tag: 'b1' });
    expect(bye.headers.get('Contact')).toBeUndefined();
    const reinvite = d.createRequest('INVITE', { via: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK3', body: 'v=0\r\n' });
    expect(cseq(reinvite)?.seq).toBe(12);
    expect(reinvite.headers.get('Contact')).toBe('<sip:alice@10.0.0.1:5060>');
    expect(reinvite.headers.get('Content-Type')).toBe('application/sdp');
    const ack = d.createRequest('ACK', { via: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK4', seq: 12 });
    expect(cseq(ack)).toEqual({ seq: 12, method: 'ACK' });
    expect(d.nextHop()).toEqual({ host: 'p2.example.com', port: 5060 });
  });

  it('uses strict routing when the first route has no lr', () => {
    const d = new SipDialog({
      id: { callId: 'c', localTag: 'l', remoteTag: 'r' }, state: 'confirmed', localUri: 'sip:a@x', remoteUri: 'sip:b@y',
      localContact: '<sip:a@1.2.3.4>', remoteTarget: 'sip:b@5.6.7.8:5070', routeSet: ['<sip:10.9.9.9:5080;transport=udp>', '<sip:p2;lr>'],
      localSeq: undefined, remoteSeq: undefined,
    });
    const req = d.createRequest('BYE', { via: 'SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKs' });
    expect(req.uri).toBe('sip:10.9.9.9:5080');
    expect(req.headers.getAll('Route')).toEqual(['<sip:p2;lr>', '<sip:b@5.6.7.8:5070>']);
    expect(cseq(req)?.seq).toBeGreaterThan(0);
    expect(d.nextHop()).toEqual({ host: '10.9.9.9', port: 5080 });
  });

  it('matches requests to the dialog and rejects a lower CSeq (§12.2.2)', () => {
    const d = SipDialog.asUas(invite(), ok(), '<sip:bridge@10.0.0.2>')!;
    const req = (seq: number, toTag = 'b1', method = 'BYE') =>
      createRequest(method, 'sip:bridge@10.0.0.2', [
        ['From', '<sip:alice@example.com>;tag=a1'], ['To', `<sip:bob@example.com>;tag=${toTag}`], ['Call-ID', 'c1'], ['CSeq', `${seq} ${method}`],
      ]);
    expect(d.matches(req(11))).toBe(true);
    expect(d.matches(req(11, 'other'))).toBe(false);
    expect(dialogIdOfRequest(req(1))).toEqual(d.id);
    expect(d.checkRemoteCSeq(req(9))).toBe('out-of-order');
    expect(d.checkRemoteCSeq(req(12))).toBe('ok');
    expect(d.remoteSeq).toBe(12);
    expect(d.checkRemoteCSeq(req(11))).toBe('out-of-order');
    expect(d.checkRemoteCSeq(req(10, 'b1', 'ACK'))).toBe('ok');
    expect(d.remoteSeq).toBe(12);
  });

  it('resolves URIs to destinations without DNS', () => {
    expect(uriDestination('sip:bob@10.0.0.2')).toEqual({ host: '10.0.0.2', port: 5060 });
    expect(uriDestination('sips:bob@10.0.0.2')).toEqual({ host: '10.0.0.2', port: 5061 });
    expect(uriDestination('sip:bob@[::1]:5070')).toEqual({ host: '::1', port: 5070 });
    expect(uriDestination('sip:bob@h;maddr=10.1.1.1')).toEqual({ host: '10.1.1.1', port: 5060 });
    expect(uriDestination('tel:+15551234')).toBeUndefined();
  });
});
