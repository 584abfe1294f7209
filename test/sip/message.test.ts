/** The message model (RFC 3261 §7) and §8.2.6 response construction. */
import { describe, expect, it } from 'vitest';
import {
  callId,
  contacts,
  contentType,
  createRequest,
  createResponse,
  cseq,
  fromHeader,
  maxForwards,
  reasonPhrase,
  responseTo,
  toHeader,
  topVia,
  vias,
} from '../../src/sip/message.js';

const request = createRequest('INVITE', 'sip:bridge@h', [
  ['Via', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
  ['Via', 'SIP/2.0/UDP b;branch=z9hG4bK2'],
  ['From', '<sip:alice@x>;tag=f'],
  ['To', '<sip:bridge@h>'],
  ['Call-ID', ' c1 '],
  ['CSeq', '3 INVITE'],
  ['Timestamp', '54'],
  ['Contact', '*'],
], 'v=0\r\n');

describe('responseTo', () => {
  it('copies Via, From, To, Call-ID and CSeq in order and adds the To tag', () => {
    const response = responseTo(request, 180, 'uas');
    expect(response).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing' });
    expect([...response.headers].map((h) => h.name)).toEqual(['Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq']);
    expect(toHeader(response)?.tag).toBe('uas');
    expect(fromHeader(response)?.tag).toBe('f');
    expect(response.body.length).toBe(0);
  });

  it('keeps an existing To tag and accepts a custom reason', () => {
    const inDialog = createRequest('BYE', 'sip:x', [['To', '<sip:a@b>;tag=old']]);
    const response = responseTo(inDialog, 200, 'new', 'Fine');
    expect(response.headers.get('To')).toBe('<sip:a@b>;tag=old');
    expect(response.reason).toBe('Fine');
  });
});

describe('accessors', () => {
  it('read typed values and tolerate absence', () => {
    expect(vias(request).map((v) => v.host)).toEqual(['a', 'b']);
    expect(topVia(request)?.branch).toBe('z9hG4bK1');
    expect(callId(request)).toBe('c1');
    expect(cseq(request)).toEqual({ seq: 3, method: 'INVITE' });
    expect(contacts(request)).toEqual([]);
    expect(request.body.toString()).toBe('v=0\r\n');
    const empty = createResponse(200);
    expect([topVia(empty), fromHeader(empty), callId(empty), cseq(empty), maxForwards(empty), contentType(empty)]).toEqual([
      undefined, undefined, undefined, undefined, undefined, undefined,
    ]);
  });

  it('reject out-of-range Max-Forwards and malformed Content-Type', () => {
    expect(maxForwards(createRequest('X', 'sip:x', [['Max-Forwards', '256']]))).toBeUndefined();
    expect(maxForwards(createRequest('X', 'sip:x', [['Max-Forwards', '0']]))).toBe(0);
    expect(contentType(createRequest('X', 'sip:x', [['Content-Type', 'sdp']]))).toBeUndefined();
    expect(contentType(createRequest('X', 'sip:x', [['c', 'Application/SDP']]))?.mediaType).toBe('application/sdp');
  });
});

describe('reasonPhrase', () => {
  it('knows §21 phrases and falls back to the class', () => {
    expect(reasonPhrase(486)).toBe('Busy Here');
    expect(reasonPhrase(499)).toBe('Bad Request');
    expect(reasonPhrase(299)).toBe('OK');
  });
});
