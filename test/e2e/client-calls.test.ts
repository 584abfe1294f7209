/**
 * `client:` calls with a real WebRTC peer as the browser (werift's RTCPeerConnection: ICE,
 * DTLS-SRTP) on the `/client/v1` signalling, registered with a token of the `twilio` library:
 * Calls.create To=client:alice rings it, it accepts and hears a sim in the conference (and the
 * sim hears it); `<Dial><Client>` hands it the `<Parameter>`s; several browsers of one identity
 * fork (first accept wins, the rest get cancel); nobody signed in is no-answer; a reject is
 * busy; and a call the browser places (`connect`) runs its grant's Application with Twilio's
 * parameters and is answered with media.
 */
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientSocket, type ServerMessage } from '../helpers/client-socket.js';
import { simulatedAudio, untilHearing } from '../helpers/hearing.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';
import { WebRtcTestPeer } from '../helpers/webrtc-peer.js';
import { startTwimlApp, type Receiver, type TwimlRoutes } from '../helpers/webhook-receiver.js';

const { AccessToken } = twilio.jwt;
const { VoiceGrant } = AccessToken;
const LEVELS = { heard: 1500, silent: 400 };

describe('client: calls with a WebRTC browser', () => {
  let t: TestApp;
  let key: { sid: string; secret: string };
  let applicationSid: string;
  let web: Receiver;
  let routes: TwimlRoutes;
  const sockets: ClientSocket[] = [];
  const peers: WebRtcTestPeer[] = [];

  function token(identity: string): string {
    const jwt = new AccessToken(t.accountSid, key.sid, key.secret, { identity });
    jwt.addGrant(new VoiceGrant({ incomingAllow: true, outgoingApplicationSid: applicationSid, outgoingApplicationParams: { team: 'blue' } }));
    return jwt.toJwt();
  }

  async function browser(identity: string): Promise<ClientSocket> {
    const { socket, answer } = await ClientSocket.register(t.baseUrl, token(identity));
    sockets.push(socket);
    expect(answer.type).toBe('registered');
    return socket;
  }

  /** Answers an `incoming` with a werift peer (its media connects meanwhile: `peer.connected()`). */
  async function accept(socket: ClientSocket, incoming: ServerMessage): Promise<WebRtcTestPeer> {
    const { peer, answerSdp } = await WebRtcTestPeer.answering(String(incoming.sdp));
    peers.push(peer);
    socket.send({ type: 'accept', callSid: incoming.callSid, sdp: answerSdp });
    return peer;
  }

  /** Waits for the peer's media (ICE and DTLS); a failure says which of the two did not come up. */
  async function connected(peer: WebRtcTestPeer): Promise<void> {
    try {
      await peer.connected();
    } catch (error) {
      const pc = peer.pc as unknown as { iceConnectionState: string; connectionState: string; dtlsTransports?: Array<{ state: string }> };
      throw new Error(`${(error as Error).message} [${/a=ice-ufrag:.*/.exec(peer.pc.remoteDescription?.sdp ?? '')?.[0]} ${/a=ice-pwd:.*/.exec(peer.pc.remoteDescription?.sdp ?? '')?.[0]}]: ICE ${pc.iceConnectionState}, connection ${pc.connectionState}, DTLS ${JSON.stringify(pc.dtlsTransports?.map((d) => d.state))}`);
    }
  }

  const status = async (callSid: string): Promise<string> =>
    (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}.json`)).json<{ status: string }>().status;
  const untilStatus = (callSid: string, wanted: string): Promise<boolean> =>
    until(async () => (await status(callSid)) === wanted, 15_000, `call ${callSid} ${wanted}`, 50);
  const heardBy = (peer: WebRtcTestPeer) => async (): Promise<Int16Array> => peer.received();
  const heardBySim = (callSid: string) => () => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, callSid);

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    ({ web, routes } = await startTwimlApp());
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Keys.json`, { form: { FriendlyName: 'browsers' } });
    key = created.json();
    const app = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Applications.json`, { form: { FriendlyName: 'browser calls', VoiceUrl: `${web.baseUrl}/voice` } });
    expect(app.status).toBe(201);
    applicationSid = app.json<{ sid: string }>().sid;
  });

  // Each test starts with no call, browser or media leg left by the one before.
  afterEach(async () => {
    const { calls } = t.app.services;
    await Promise.all([...calls.liveCalls()].map((call) => calls.hangup(call.sid)));
    for (const peer of peers.splice(0)) await peer.close();
    const open = sockets.splice(0);
    for (const socket of open) socket.close();
    await Promise.all(open.map((socket) => socket.closed()));
  });

  afterAll(async () => {
    await t.close();
    await web.close();
  });

  it('Calls.create To=client:alice rings the browser, which accepts and talks with a sim in the conference', async () => {
    const alice = await browser('alice');
    const sim = await placeCall(t, 'sim:bob;tone=440;record', '<Response><Dial><Conference>room-1</Conference></Dial></Response>');
    const callSid = await placeCall(t, 'client:alice', '<Response><Dial><Conference>room-1</Conference></Dial></Response>', '+15005550006');
    const incoming = await alice.next('incoming');
    expect(incoming).toMatchObject({ callSid, from: '+15005550006', to: 'client:alice', accountSid: t.accountSid, params: {} });
    expect(await status(callSid)).toBe('ringing');
    const peer = await accept(alice, incoming);
    await untilStatus(callSid, 'in-progress');
    await connected(peer);
    peer.sendTone(1000);
    await untilHearing(heardBy(peer), 'the browser', [440], [], LEVELS);
    await untilHearing(heardBySim(sim), 'the sim', [1000], [], LEVELS);
    // The browser hangs up: the call completes.
    alice.send({ type: 'hangup', callSid });
    await untilStatus(callSid, 'completed');
  }, 60_000);

  it('Create Participant To=client:alice (muted: listening) rings the browser into the conference, where it hears the sim', async () => {
    const alice = await browser('alice');
    const sim = await placeCall(t, 'sim:hank;tone=700;record', '<Response><Dial><Conference>room-2</Conference></Dial></Response>');
    const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Conferences/room-2/Participants.json`, { form: { From: '+15005550006', To: 'client:alice', Muted: 'true' } });
    expect(created.status).toBe(201);
    const callSid = created.json<{ call_sid: string }>().call_sid;
    const incoming = await alice.next('incoming');
    expect(incoming).toMatchObject({ callSid, to: 'client:alice' });
    const peer = await accept(alice, incoming);
    await connected(peer);
    peer.sendTone(1000);
    await untilHearing(heardBy(peer), 'the browser', [700], [], LEVELS);
    await untilHearing(heardBySim(sim), 'the sim', [], [1000], LEVELS);
  }, 60_000);

  it('<Dial><Client> gives the browser its <Parameter>s; Conclave hanging up tells the browser', async () => {
    const alice = await browser('alice');
    const twiml = '<Response><Dial timeout="20"><Client><Identity>alice</Identity><Parameter name="ticket" value="42"/><Parameter name="queue" value="vip"/></Client></Dial></Response>';
    const caller = await placeCall(t, 'sim:carol;tone=600;record', twiml);
    const incoming = await alice.next('incoming');
    expect(incoming).toMatchObject({ to: 'client:alice', params: { ticket: '42', queue: 'vip' } });
    const peer = await accept(alice, incoming);
    await connected(peer);
    await untilHearing(heardBy(peer), 'the browser', [600], [], LEVELS);
    peer.sendTone(900);
    await untilHearing(heardBySim(caller), 'the caller', [900], [], LEVELS);
    // The caller hangs up: the bridge ends and the browser is told.
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${caller}.json`, { form: { Status: 'completed' } });
    expect(await alice.next('hangup')).toMatchObject({ callSid: incoming.callSid, reason: 'completed' });
  }, 60_000);

  it('rings every browser of the identity: the first to accept wins, the others are cancelled', async () => {
    const first = await browser('dana');
    const second = await browser('dana');
    const other = await browser('erin');
    const callSid = await placeCall(t, 'client:dana', '<Response><Pause length="30"/></Response>');
    const [a, b] = await Promise.all([first.next('incoming'), second.next('incoming')]);
    expect(a.callSid).toBe(callSid);
    expect(b.sdp).toBe(a.sdp);
    await accept(second, b);
    expect(await first.next('cancel')).toMatchObject({ callSid });
    await untilStatus(callSid, 'in-progress');
    expect(other.received.some((m) => m.type === 'incoming')).toBe(false);
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${callSid}.json`, { form: { Status: 'completed' } });
    expect(await second.next('hangup')).toMatchObject({ callSid });
  }, 60_000);

  it('is no-answer when nobody is signed in as the identity, busy when the browser rejects, canceled when the caller gives up', async () => {
    const nobody = await placeCall(t, 'client:nobody', '<Response/>');
    await untilStatus(nobody, 'no-answer');

    const frank = await browser('frank');
    const rejected = await placeCall(t, 'client:frank', '<Response/>');
    frank.send({ type: 'reject', callSid: (await frank.next('incoming')).callSid });
    await untilStatus(rejected, 'busy');

    const gaveUp = await placeCall(t, 'client:frank', '<Response/>');
    await frank.next('incoming');
    await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${gaveUp}.json`, { form: { Status: 'canceled' } });
    expect(await frank.next('cancel')).toMatchObject({ callSid: gaveUp });
    await untilStatus(gaveUp, 'canceled');
  }, 60_000);

  it("a call the browser places runs its grant's Application with Twilio's parameters, and is answered with media", async () => {
    routes.set('/voice', () => '<Response><Dial><Conference>room-7</Conference></Dial></Response>');
    const sim = await placeCall(t, 'sim:gina;tone=500;record', '<Response><Dial><Conference>room-7</Conference></Dial></Response>');
    const alice = await browser('alice');
    const peer = await WebRtcTestPeer.create();
    peers.push(peer);
    alice.send({ type: 'connect', id: 'call-1', sdp: peer.offerSdp, params: { To: 'support', agent: 'x 1' } });
    const accepted = await alice.next('accepted', 15_000);
    expect(accepted).toMatchObject({ id: 'call-1' });
    const callSid = String(accepted.callSid);
    expect(alice.received.find((m) => m.type === 'ringing')).toMatchObject({ id: 'call-1', callSid });
    const sdp = alice.received.find((m) => m.id === 'call-1' && typeof m.sdp === 'string')!.sdp;
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: String(sdp) });
    const request = web.requests.find((r) => r.path === '/voice' && r.params.CallSid === callSid)!;
    expect(request.params).toMatchObject({
      AccountSid: t.accountSid,
      ApplicationSid: applicationSid,
      ApiVersion: '2010-04-01',
      CallSid: callSid,
      CallStatus: 'ringing',
      Called: 'support',
      Caller: 'client:alice',
      Direction: 'inbound',
      From: 'client:alice',
      To: 'support',
      agent: 'x 1',
      team: 'blue',
    });
    await connected(peer);
    peer.sendTone(1200);
    await untilHearing(heardBy(peer), 'the browser', [500], [], LEVELS);
    await untilHearing(heardBySim(sim), 'the sim', [1200], [], LEVELS);
    alice.send({ type: 'hangup', callSid });
    await untilStatus(callSid, 'completed');
  }, 60_000);

  it('keys the browser sends reach the call as pressed keys (<Gather>)', async () => {
    routes.set('/voice', () => `<Response><Gather action="${web.baseUrl}/gathered" numDigits="3" timeout="10"/></Response>`);
    const alice = await browser('alice');
    const peer = await WebRtcTestPeer.create();
    peers.push(peer);
    alice.send({ type: 'connect', id: 'keys', sdp: peer.offerSdp, params: { To: 'menu' } });
    const accepted = await alice.next('accepted', 15_000);
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: String(alice.received.find((m) => m.id === 'keys' && typeof m.sdp === 'string')!.sdp) });
    alice.send({ type: 'digits', callSid: accepted.callSid, digits: '42#' });
    await until(() => web.requests.find((r) => r.path === '/gathered'), 15_000, 'the Gather action');
    expect(web.requests.find((r) => r.path === '/gathered')!.params).toMatchObject({ Digits: '42' });
  }, 60_000);
});
