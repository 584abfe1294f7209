/**
 * What an INVITE through the carrier trunk says (sip-trunk.ts): the Request-URI for a number
 * keeps the trunk's scheme, host, port and parameters and adds `;user=phone`; the caller ID
 * becomes a From user at our address (with `;user=phone` when it is a number) and the same
 * identity in P-Asserted-Identity; the trunk's credentials go with it.
 */
import { describe, expect, it } from 'vitest';
import { callerIdUser, SipTrunk } from '../../src/endpoints/sip/sip-trunk.js';

const trunk = (uri: string, auth?: { username: string; password: string }): SipTrunk => new SipTrunk({ uri, ...(auth ? { auth } : {}), register: false, registerExpires: 600 });

describe('SipTrunk.invite', () => {
  it('puts the number at the trunk, keeping its scheme, port and transport', () => {
    expect(trunk('sip:sip.carrier.example;transport=tls').invite('+15557654321', '+15551230000', '203.0.113.7').uri).toBe('sip:+15557654321@sip.carrier.example;transport=tls;user=phone');
    expect(trunk('sips:203.0.113.5:5081').invite('+442071234567', '+15551230000', '203.0.113.7').uri).toBe('sips:+442071234567@203.0.113.5:5081;user=phone');
    // A user part in the trunk URI (an account name) is not the number's: the number replaces it.
    expect(trunk('sip:acct42@sip.carrier.example:5080').invite('+15557654321', '+15551230000', '203.0.113.7').uri).toBe('sip:+15557654321@sip.carrier.example:5080;user=phone');
  });

  it('presents the caller ID in From and P-Asserted-Identity, with the trunk credentials', () => {
    const invite = trunk('sip:sip.carrier.example', { username: 'u', password: 'p' }).invite('+15557654321', '+15551230000', '203.0.113.7');
    expect(invite.from).toBe('sip:+15551230000@203.0.113.7;user=phone');
    expect(invite.headers).toEqual([['P-Asserted-Identity', '<sip:+15551230000@203.0.113.7;user=phone>']]);
    expect(invite.auth).toEqual({ username: 'u', password: 'p' });
    expect(trunk('sip:sip.carrier.example').invite('+15557654321', 'client:alice', '203.0.113.7')).toMatchObject({ from: 'sip:alice@203.0.113.7' });
    expect(trunk('sip:sip.carrier.example').invite('+15557654321', 'client:alice', '203.0.113.7').auth).toBeUndefined();
  });
});

describe('callerIdUser', () => {
  it('takes a number as it is, the user of a SIP URI, a client or sim name', () => {
    expect(callerIdUser('+15551230000')).toBe('+15551230000');
    expect(callerIdUser('sip:+15551230000@pbx.example.com;transport=tcp')).toBe('+15551230000');
    expect(callerIdUser('sips:alice@acme.example')).toBe('alice');
    expect(callerIdUser('client:bob')).toBe('bob');
    expect(callerIdUser('sim:carol;tone=440')).toBe('carol');
    // Nothing usable: a SIP URI without a user, or only characters a user part cannot carry.
    expect(callerIdUser('sip:pbx.example.com')).toBe('conclave');
    expect(callerIdUser('client:<>')).toBe('conclave');
  });
});
