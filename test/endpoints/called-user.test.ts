/**
 * Which user an inbound INVITE is routed by (called-user.ts): the Request-URI's, unless that is
 * our registered trunk username — then the number in To, as carriers deliver to a Contact.
 */
import { describe, expect, it } from 'vitest';
import { calledUser } from '../../src/endpoints/sip/called-user.js';
import { createRequest } from '../../src/sip/message.js';

function invite(uri: string, to: string) {
  return createRequest('INVITE', uri, [['To', to]]);
}

describe('the user an inbound call is routed by', () => {
  it('is the Request-URI user when it is a number, registering or not', () => {
    expect(calledUser(invite('sip:+15005550123@203.0.113.7', '<sip:+15005550123@carrier.example>'))).toBe('+15005550123');
    expect(calledUser(invite('sip:+15005550123@203.0.113.7', '<sip:someone@carrier.example>'), 'acme')).toBe('+15005550123');
  });

  it('is the To user (sip: or tel:) when the Request-URI names our trunk username', () => {
    expect(calledUser(invite('sip:acme@203.0.113.7:5060', '<sip:+15005550123@carrier.example>;tag=x'), 'acme')).toBe('+15005550123');
    expect(calledUser(invite('sip:acme@203.0.113.7;transport=tcp', '<tel:+15005550123;phone-context=x>'), 'acme')).toBe('+15005550123');
    expect(calledUser(invite('sip:a%63me@203.0.113.7', '"Bob" <sip:15005550123@carrier.example>'), 'acme')).toBe('15005550123');
  });

  it('stays the Request-URI user when To has no user, and is undefined without one', () => {
    expect(calledUser(invite('sip:acme@203.0.113.7', '<sip:carrier.example>'), 'acme')).toBe('acme');
    expect(calledUser(invite('sip:203.0.113.7', '<sip:+15005550123@carrier.example>'), 'acme')).toBeUndefined();
  });
});
