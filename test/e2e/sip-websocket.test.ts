/**
 * SIP over WebSocket (RFC 7118) on the API port's `/sip`, with a raw client speaking SIP text
 * over `ws` as JsSIP does (ws-sip-client.ts): the handshake needs the `sip` subprotocol; a
 * REGISTER to a SIP Domain is challenged and bound with the digest credentials mapped for
 * registrations; a call to `sip:alice@<domain>` arrives as an INVITE on the connection (the
 * client's `.invalid` Contact reaches nobody, §5.4), and the BYE inside the dialog comes the same
 * way; with the connection gone the binding is unreachable (no-answer at once); an INVITE from
 * the client to a number at its SIP Domain reaches the domain's TwiML app after its 407, and one
 * straight to a number is refused (a browser is never a carrier, sip-inbound.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildAuthorization, parseDigestChallenge } from '../../src/sip/digest.js';
import { createRequest, topVia, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { createRegistrarDomain, createResource } from '../helpers/registrar-domain.js';
import { ownNumber, placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { startTwimlApp, type Receiver, type TwimlRoutes } from '../helpers/webhook-receiver.js';
import { WebRtcTestPeer } from '../helpers/webrtc-peer.js';
import { WsSipClient } from '../helpers/ws-sip-client.js';

const DOMAIN = 'browsers.acme.example';
const PASSWORD = 'Correct-Horse-42';
const NUMBER = '+15551230001';

const isRequest =
  (method: string) =>
  (m: SipMessage): m is SipRequest =>
    m.kind === 'request' && m.method === method;

describe('SIP over WebSocket (RFC 7118)', () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;
  const clients: WsSipClient[] = [];
  const peers: WebRtcTestPeer[] = [];

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    ({ web, routes: app } = await startTwimlApp());
    await createRegistrarDomain(t, DOMAIN, `${web.baseUrl}/domain`, [{ username: 'alice', password: PASSWORD }]);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await t.close();
    await web.close();
  });

  const sipUrl = (): string => `${t.baseUrl.replace(/^http/, 'ws')}/sip`;
  async function client(user = 'alice'): Promise<WsSipClient> {
    const c = await WsSipClient.connect(sipUrl(), user);
    clients.push(c);
    return c;
  }
  async function callStatus(sid: string): Promise<string> {
    const res = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`);
    return res.json<{ status: string }>().status;
  }

  it('refuses a handshake without the sip subprotocol (400), and a path that is not /sip (404)', async () => {
    const statusOf = (url: string, protocols?: string[]): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, protocols);
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('open', () => reject(new Error('the handshake was accepted')));
        ws.once('error', () => undefined);
      });
    expect(await statusOf(sipUrl())).toBe(400);
    expect(await statusOf(sipUrl(), ['chat'])).toBe(400);
    expect(await statusOf(`${t.baseUrl.replace(/^http/, 'ws')}/nothing-here`, ['sip'])).toBe(404);
    // With it: accepted, and the server names it (RFC 6455 §4.2.2).
    const ok = new WebSocket(sipUrl(), ['sip']);
    await new Promise<void>((resolve, reject) => {
      ok.once('open', () => resolve());
      ok.once('error', reject);
    });
    expect(ok.protocol).toBe('sip');
    ok.close();
  });

  it('challenges a REGISTER with 401, refuses a wrong password, and binds the .invalid Contact with the right one', async () => {
    const alice = await client();
    const bare = await alice.register(DOMAIN);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('WWW-Authenticate')).toMatch(/^Digest realm="conclave", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    // §5.2: the Via names a host nobody reaches; the registrar recorded where it came from.
    expect(topVia(bare)?.transport).toBe('WS');
    expect(topVia(bare)?.received).toBe('127.0.0.1');
    expect((await alice.register(DOMAIN, 'Wrong-Horse-42')).status).toBe(403);
    const ok = await alice.register(DOMAIN, PASSWORD);
    expect(ok.status).toBe(200);
    expect(ok.headers.getAll('Contact')).toEqual([`<sip:alice@${alice.alias};transport=ws>;expires=600`]);
  });

  it('delivers a call to sip:alice@<domain> as an INVITE on the connection, and the BYE in its dialog too', async () => {
    const alice = await client();
    expect((await alice.register(DOMAIN, PASSWORD)).status).toBe(200);
    const sid = await placeCall(t, `sip:alice@${DOMAIN}`, '<Response><Pause length="30"/></Response>');
    const invite = await alice.next(isRequest('INVITE'), 0, 10_000, 'the INVITE to alice');
    // Sent to the connection's flow, as alice's own user; our Via and Contact say WS.
    expect(invite.uri).toMatch(/^sip:alice@127\.0\.0\.1:\d+;transport=ws$/);
    expect(topVia(invite)?.transport).toBe('WS');
    expect(invite.headers.get('Contact')).toMatch(/;transport=ws>/);
    // Conclave offers WebRTC media to a WebSocket client (ICE-lite, DTLS-SRTP): a werift peer answers as a browser would.
    const { peer, answerSdp } = await WebRtcTestPeer.answering(invite.body.toString());
    peers.push(peer);
    alice.answer(invite, 180);
    const tag = 'alice1';
    alice.answer(invite, 200, tag, answerSdp);
    await alice.next(isRequest('ACK'), 0, 10_000, 'the ACK of the 200');
    await until(async () => (await callStatus(sid)) === 'in-progress', 10_000, 'the call in progress');

    const ended = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`, { form: { Status: 'completed' } });
    expect(ended.status).toBe(200);
    // RFC 7118 §5.4: the BYE goes to alice's Contact (its .invalid host) — over her connection.
    const bye = await alice.next(isRequest('BYE'), 0, 10_000, 'the BYE');
    expect(bye.uri).toBe(`sip:alice@${alice.alias};transport=ws`);
    alice.answer(bye, 200, tag);
    await until(async () => (await callStatus(sid)) === 'completed', 10_000, 'the call completed');
    // The call's SIP trace names the WebSocket's ends: the API's port and the client's connection.
    const url = `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}/SipMessages.json`;
    const messages = await until(async () => {
      const got = (await t.request('GET', url)).json<{ messages: Array<{ direction: string; transport: string; source: string; destination: string; firstLine: string }> }>().messages;
      return got.at(-1)?.firstLine === 'SIP/2.0 200 OK' ? got : undefined;
    }, 10_000, "the call's SIP messages");
    const apiPort = new URL(t.baseUrl).port;
    expect(messages[0]).toMatchObject({ direction: 'out', transport: 'ws', source: `127.0.0.1:${apiPort}`, destination: invite.uri.replace(/^sip:alice@|;transport=ws$/g, '') });
    expect(messages.every((m) => m.transport === 'ws' && (m.direction === 'out' ? m.source : m.destination) === `127.0.0.1:${apiPort}`)).toBe(true);
  });

  it('cancels an unanswered call to the client over its connection (CANCEL, then the 487 is ACKed)', async () => {
    const alice = await client();
    expect((await alice.register(DOMAIN, PASSWORD)).status).toBe(200);
    const sid = await placeCall(t, `sip:alice@${DOMAIN}`, '<Response><Pause length="30"/></Response>');
    const invite = await alice.next(isRequest('INVITE'), 0, 10_000, 'the INVITE to alice');
    alice.answer(invite, 180, 'ringing1');
    await until(async () => (await callStatus(sid)) === 'ringing', 10_000, 'the call ringing');
    const canceled = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`, { form: { Status: 'canceled' } });
    expect(canceled.status).toBe(200);
    const cancel = await alice.next(isRequest('CANCEL'), 0, 10_000, 'the CANCEL');
    expect(topVia(cancel)?.branch).toBe(topVia(invite)?.branch);
    alice.answer(cancel, 200);
    alice.answer(invite, 487, 'ringing1');
    await alice.next(isRequest('ACK'), 0, 10_000, 'the ACK of the 487');
    await until(async () => (await callStatus(sid)) === 'canceled', 10_000, 'the call canceled');
  });

  it('treats a binding whose connection closed as not registered: the call fails at once with no-answer', async () => {
    const alice = await client();
    expect((await alice.register(DOMAIN, PASSWORD)).status).toBe(200);
    await alice.close();
    const started = Date.now();
    const sid = await placeCall(t, `sip:alice@${DOMAIN}`, '<Response><Pause length="30"/></Response>');
    await until(async () => (await callStatus(sid)) === 'no-answer', 10_000, 'no-answer');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops at once with a client connected: its connection is closed (1001) before the HTTP server, whose close would wait for it', async () => {
    const alice = await client();
    const closed = new Promise<number>((resolve) => alice.onClose(resolve));
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await closed).toBe(1001);
  });

  it('refuses an INVITE from the client straight to a number (a browser is no carrier, even from loopback): 403 saying to call through the SIP Domain', async () => {
    await ownNumber(t, NUMBER, `${web.baseUrl}/number`);
    const alice = await client();
    const to = `sip:${NUMBER}@127.0.0.1`;
    const invite = alice.request('INVITE', to, [
      ['From', `<sip:alice@${DOMAIN}>;tag=wsfrom`],
      ['To', `<${to}>`],
      ['Call-ID', `inv-${alice.alias}`],
      ['Contact', alice.contact],
      ['Content-Type', 'application/sdp'],
    ], alice.sdp());
    const refused = await alice.transact(invite);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('Warning')).toMatch(/through its SIP Domain/);
    alice.send(ackOf(invite, refused));
    expect(web.requests).toHaveLength(0);
  });

  it("takes an INVITE from the client to a number at its SIP Domain after the domain's 407 digest challenge, and the client ends it", async () => {
    // Calls to the domain need credentials mapped for calls (Auth/Calls).
    const domains = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains.json`);
    const domainSid = domains.json<{ domains: Array<{ sid: string }> }>().domains[0]!.sid;
    const lists = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/SIP/CredentialLists.json`);
    const listSid = lists.json<{ credential_lists: Array<{ sid: string }> }>().credential_lists[0]!.sid;
    await createResource(t, `/SIP/Domains/${domainSid}/Auth/Calls/CredentialListMappings.json`, { CredentialListSid: listSid });
    let asked: Record<string, string | string[]> | undefined;
    app.set('/domain', (request) => {
      asked = request.params;
      return '<Response><Pause length="30"/></Response>';
    });
    const alice = await client();
    const to = `sip:${NUMBER}@${DOMAIN}`;
    const build = (): SipRequest =>
      alice.request('INVITE', to, [
        ['From', `<sip:alice@${DOMAIN}>;tag=wsfrom2`],
        ['To', `<${to}>`],
        ['Call-ID', `dom-${alice.alias}`],
        ['Contact', alice.contact],
        ['Content-Type', 'application/sdp'],
      ], alice.sdp());
    const first = build();
    const challenged = await alice.transact(first);
    expect(challenged.status).toBe(407);
    alice.send(ackOf(first, challenged));
    const challenge = parseDigestChallenge(challenged.headers.get('Proxy-Authenticate') ?? '');
    expect(challenge).toBeDefined();
    const retry = build();
    retry.headers.append('Proxy-Authorization', buildAuthorization(challenge!, { username: 'alice', password: PASSWORD, method: 'INVITE', uri: to }));
    const final = await alice.transact(retry);
    expect(final.status).toBe(200);
    expect(asked?.To).toBe(to);
    expect(asked?.SipDomain).toBe(DOMAIN);
    const dialog: Array<readonly [string, string]> = [
      ['From', `<sip:alice@${DOMAIN}>;tag=wsfrom2`],
      ['To', final.headers.get('To') ?? ''],
      ['Call-ID', `dom-${alice.alias}`],
    ];
    const ack = alice.request('ACK', to, dialog);
    ack.headers.set('CSeq', `${cseqOf(retry)} ACK`);
    alice.send(ack);
    expect((await alice.transact(alice.request('BYE', to, dialog))).status).toBe(200);
  });
});

function cseqOf(request: SipRequest): number {
  return Number((request.headers.get('CSeq') ?? '0').split(' ')[0]);
}

/** RFC 3261 §17.1.1.3: the ACK of a failure, in the INVITE's transaction (same Via branch). */
function ackOf(invite: SipRequest, failure: SipResponse): SipRequest {
  return createRequest('ACK', invite.uri, [
    ['Via', invite.headers.get('Via') ?? ''],
    ['Max-Forwards', '70'],
    ['From', invite.headers.get('From') ?? ''],
    ['To', failure.headers.get('To') ?? ''],
    ['Call-ID', invite.headers.get('Call-ID') ?? ''],
    ['CSeq', `${cseqOf(invite)} ACK`],
  ]);
}
