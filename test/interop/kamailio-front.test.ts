/**
 * Issue 11 §4, "a real SIP edge in front": the repository's Kamailio config
 * (deploy/kamailio/kamailio.cfg) run by the real `kamailio`, in front of two real Conclave node
 * processes on one PostgreSQL schema, called by real SIP phones (test/helpers/sip-phone.ts, each
 * on its own UDP port) whose TwiML comes from a real webhook receiver.
 *
 * What a user sees: calls to the proxy reach both nodes and run their TwiML; a BYE from the
 * phone travels through the proxy (the phone's route set starts at it, RFC 3261 §12.1.2) and
 * completes the call; a node that is stopped is taken out and every new call goes to the
 * other; a node that comes back is used again; two calls to one conference on different
 * nodes are listed as participants of one conference through either node's API.
 *
 * A phone registers to a SIP Domain through the proxy (which adds a Path, RFC 3327), and a call
 * placed to it through either node comes back through the proxy to the phone. A phone calling
 * a domain with digest credentials is let in whichever node its answer to the 407 reaches (the
 * nodes sign nonces with one shared key).
 *
 * Which node took a call is read from the 200's Contact (the node's own SIP address, which
 * becomes the phone's remote target, §12.1.2), as a phone would see it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneRegistration } from '../helpers/phone-registration.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { meanAmplitude } from '../media/goertzel.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { parseNameAddr } from '../../src/sip/header-values.js';
import { parseSipUri } from '../../src/sip/sip-uri.js';
import { dropSchema, freeSipPort, newSchemaName, nodeDatabaseUrl, startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { until } from '../helpers/until.js';
import { answer, gate, startReceiver, type ReceivedRequest, type Receiver } from '../helpers/webhook-receiver.js';
import { startKamailio, type KamailioProcess } from './kamailio-process.js';
import { startScriptedSipNode } from './scripted-sip-node.js';

/** Runs `<Redirect>` to /next, then pauses: the webhook sees both fetches when the TwiML runs. */
const PAUSE_NUMBER = '+15005550101';
/** Puts the caller in the conference `same-room`. */
const ROOM_NUMBER = '+15005550102';
/** Its webhook is held until the test lets it go: the call rings meanwhile. */
const HELD_NUMBER = '+15005550103';

interface PlacedCall {
  phone: SipPhone;
  /** The node that answered (by the SIP port of its Contact). */
  node: NodeProcess;
  callSid: string;
}

describe('Kamailio in front of two Conclave nodes on one PostgreSQL schema', () => {
  const schema = newSchemaName();
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const sipPorts: number[] = [];
  const nodes: NodeProcess[] = [];
  const phones: SipPhone[] = [];
  let receiver: Receiver;
  let kamailio: KamailioProcess;
  let callerCount = 0;
  const held = gate();

  const startNode = (sipPort: number): Promise<NodeProcess> =>
    startNodeProcess({
      accountSid,
      authToken,
      env: { CONCLAVE_DATABASE: nodeDatabaseUrl(schema), CONCLAVE_SIP_PORT: String(sipPort), CONCLAVE_RTP_TIMEOUT: '0' },
    });

  const nodeOf = (port: number): NodeProcess => {
    const node = nodes.find((n) => n.sipPort === port);
    if (!node) throw new Error(`no node on SIP port ${port}`);
    return node;
  };

  const openPhone = async (hz: number | null = null): Promise<SipPhone> => {
    const phone = await SipPhone.open(`caller${++callerCount}`, hz);
    phones.push(phone);
    return phone;
  };

  const fetchOf = (phone: SipPhone): Promise<ReceivedRequest> =>
    until(() => receiver.requests.find((r) => r.params.From === phone.uri && r.params.CallSid !== undefined), 10_000, `the TwiML fetch of ${phone.name}'s call`);

  /**
   * A phone (silent, or speaking `hz`) calls `number` through `proxy`; resolves once answered
   * and its TwiML fetched. `routes`: how many Record-Routes the proxy put in (two when the
   * phone's transport differs from the node's, one per side).
   */
  const placeCall = async (number: string, options: { hz?: number; transport?: 'tcp'; proxy?: KamailioProcess } = {}): Promise<PlacedCall> => {
    const proxy = options.proxy ?? kamailio;
    const phone = await openPhone(options.hz ?? null);
    const call = await phone.dial(proxy.uriFor(number) + (options.transport === 'tcp' ? ';transport=tcp' : ''));
    const dialog = call.dialog!;
    // The phone's next hop inside the dialog is the proxy (its Record-Route), not the node.
    const routePorts = dialog.routeSet.map((route) => parseNameAddr(route)?.sipUri?.port);
    expect(routePorts).toEqual(options.transport === 'tcp' ? [proxy.port, proxy.port] : [proxy.port]);
    const node = nodeOf(parseSipUri(dialog.remoteTarget)!.port!);
    return { phone, node, callSid: String((await fetchOf(phone)).params.CallSid) };
  };

  const callStatus = async (node: NodeProcess, callSid: string): Promise<unknown> => (await node.request('GET', `/Calls/${callSid}.json`)).json.status;

  beforeAll(async () => {
    receiver = await startReceiver(async (request, response) => {
      if (request.path === '/held') await held.promise;
      const twiml =
        request.path === '/voice'
          ? `<Response><Redirect>${receiver.baseUrl}/next</Redirect></Response>`
          : request.path === '/room'
            ? '<Response><Dial><Conference>same-room</Conference></Dial></Response>'
            : '<Response><Pause length="60"/></Response>';
      answer(response, 200, 'text/xml', twiml);
    });
    sipPorts.push(await freeSipPort(), await freeSipPort());
    // One after the other: two nodes starting at the same instant on an empty schema race
    // to create the owner account (being fixed separately).
    for (const port of sipPorts) nodes.push(await startNode(port));
    kamailio = await startKamailio(sipPorts);
    for (const [number, path] of [
      [PAUSE_NUMBER, '/voice'],
      [ROOM_NUMBER, '/room'],
      [HELD_NUMBER, '/held'],
    ] as const) {
      const created = await nodes[0]!.request('POST', '/IncomingPhoneNumbers.json', { PhoneNumber: number, VoiceUrl: `${receiver.baseUrl}${path}` });
      expect(created.status, created.body).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    held.open();
    await Promise.all(phones.map((phone) => phone.close()));
    await kamailio?.close();
    await Promise.all(nodes.map((node) => node.close()));
    await receiver?.close();
    await dropSchema(schema);
  }, 60_000);

  it('spreads calls over both nodes; they run their TwiML; a BYE from the phone ends the call through the proxy', async () => {
    const calls: PlacedCall[] = [];
    for (let i = 0; i < 4; i++) calls.push(await placeCall(PAUSE_NUMBER));
    // Round-robin: consecutive calls alternate between the two nodes.
    expect(new Set(calls.map((c) => c.node.sipPort))).toEqual(new Set(sipPorts));
    for (const { callSid } of calls) {
      // The TwiML ran past its first document: the <Redirect> was followed.
      await until(() => receiver.requests.some((r) => r.path === '/next' && r.params.CallSid === callSid), 10_000, `the redirect of ${callSid}`);
      expect(await callStatus(nodes[0]!, callSid)).toBe('in-progress');
    }
    // A re-INVITE (the phone holds, then resumes, RFC 3264 §8.4) follows the dialog through the proxy.
    await calls[0]!.phone.hold(true);
    await calls[0]!.phone.hold(false);

    for (const { phone, node, callSid } of calls) {
      const ended = phone.ended();
      phone.call!.bye();
      expect((await ended).by).toBe('local');
      await until(async () => (await callStatus(node, callSid)) === 'completed', 10_000, `${callSid} completed`);
    }
  });

  it('a hang-up through the API reaches the phone through the proxy (the node follows the Record-Route, §12.2.1.1), over UDP and over TCP', async () => {
    for (const transport of [undefined, 'tcp'] as const) {
      const { phone, node, callSid } = await placeCall(PAUSE_NUMBER, { ...(transport ? { transport } : {}) });
      const ended = phone.ended();
      const hungUp = await node.request('POST', `/Calls/${callSid}.json`, { Status: 'completed' });
      expect(hungUp.status, hungUp.body).toBe(200);
      expect((await ended).by).toBe('remote');
    }
  });

  it('a phone over TCP (the proxy reaches the node over UDP: two Record-Routes) hangs up through the proxy', async () => {
    const { phone, node, callSid } = await placeCall(PAUSE_NUMBER, { transport: 'tcp' });
    const ended = phone.ended();
    phone.call!.bye();
    expect((await ended).by).toBe('local');
    await until(async () => (await callStatus(node, callSid)) === 'completed', 10_000, `${callSid} completed`);
  });

  it('a CANCEL while the call rings goes through the proxy to the node that has the call', async () => {
    const phone = await openPhone();
    const dialing = phone.dial(kamailio.uriFor(HELD_NUMBER)).then(
      () => undefined,
      (error: { status?: number }) => error.status,
    );
    const callSid = String((await fetchOf(phone)).params.CallSid);
    phone.call!.hangup();
    expect(await dialing).toBe(487);
    await until(async () => (await callStatus(nodes[0]!, callSid)) === 'canceled', 10_000, `${callSid} canceled`);
  });

  it.each([
    ['SIGTERM', 1],
    ['SIGKILL', 0],
  ] as const)('takes a node stopped by %s out (new calls all reach the survivor) and uses it again when it comes back', async (signal, index) => {
    const stopped = nodes[index]!;
    const survivor = nodes[1 - index]!;
    const stoppedUri = `sip:127.0.0.1:${stopped.sipPort}`;
    // A call on the node that stops (round-robin: one of two consecutive calls lands there).
    const live: PlacedCall[] = [await placeCall(PAUSE_NUMBER)];
    if (live[0]!.node !== stopped) live.push(await placeCall(PAUSE_NUMBER));
    const onStopped = live.find((c) => c.node === stopped)!;
    const ended = onStopped.phone.ended();

    const logged = kamailio.lines.length;
    const stoppedAt = Date.now();
    await stopped.kill(signal);
    const down = await kamailio.logLine([`node down: ${stoppedUri}`], 15_000, logged);
    console.log(`kamailio took ${stoppedUri} out ${down.at - stoppedAt} ms after its ${signal}`);
    // A stop ends the node's calls with a BYE, which reaches the phone through the proxy; a
    // kill -9 leaves the phone with a call nobody answers for (ending those is issue 11 §1).
    if (signal === 'SIGTERM') expect((await ended).by).toBe('remote');
    else onStopped.phone.call!.bye();

    for (let i = 0; i < 4; i++) {
      const call = await placeCall(PAUSE_NUMBER);
      expect(call.node).toBe(survivor);
      call.phone.call!.bye();
    }

    nodes[index] = await startNode(stopped.sipPort);
    await kamailio.logLine([`node up: ${stoppedUri}`], 15_000, logged);
    const after: PlacedCall[] = [];
    for (let i = 0; i < 2; i++) after.push(await placeCall(PAUSE_NUMBER));
    expect(after.map((c) => c.node)).toContain(nodes[index]);
    for (const { phone } of [...live, ...after]) if (!phone.call!.ended) phone.call!.bye();
  });

  describe.each([
    ['never answers an INVITE (a hung node: not even 100 Trying)', null, 'did not answer INVITE; marked down'],
    ['answers 503 (out of RTP ports, or stopping)', 503, 'answered 503 to INVITE; trying the next'],
  ])('a node that %s', (_what, status, logged) => {
    it('is failed over: the call is answered by the next node', async () => {
      const sick = await startScriptedSipNode(status);
      const proxy = await startKamailio([sick.port, nodes[0]!.sipPort]);
      try {
        // Round-robin: one of two calls is offered to the sick node first.
        for (let i = 0; i < 2; i++) {
          const call = await placeCall(PAUSE_NUMBER, { proxy });
          expect(call.node).toBe(nodes[0]);
          call.phone.call!.bye();
        }
        expect(sick.invites.size).toBe(1);
        await proxy.logLine([`node sip:127.0.0.1:${sick.port} ${logged}`]);
      } finally {
        await proxy.close();
        await sick.close();
      }
    });
  });

  it('a node that answers 486 Busy Here (the application said busy) is not failed over: the caller gets the 486', async () => {
    const busy = await startScriptedSipNode(486);
    const proxy = await startKamailio([busy.port, nodes[0]!.sipPort]);
    try {
      const outcomes: Array<number | NodeProcess> = [];
      for (let i = 0; i < 2; i++) {
        const phone = await openPhone();
        const outcome = await phone.dial(proxy.uriFor(PAUSE_NUMBER)).then(
          (call) => nodeOf(parseSipUri(call.dialog!.remoteTarget)!.port!),
          (error: { status?: number }) => error.status ?? -1,
        );
        outcomes.push(outcome);
        if (phone.call && !phone.call.ended) phone.call.bye();
      }
      expect(outcomes).toContain(486);
      expect(outcomes).toContain(nodes[0]);
      expect(busy.invites.size).toBe(1);
    } finally {
      await proxy.close();
      await busy.close();
    }
  });

  it('two calls to one conference, answered by different nodes, are participants of one conference through either API, and hear each other', async () => {
    // The callers speak 400 Hz and 600 Hz.
    const alice = await placeCall(ROOM_NUMBER, { hz: 400 });
    const bob = await placeCall(ROOM_NUMBER, { hz: 600 });
    expect(alice.node).not.toBe(bob.node);

    for (const node of nodes) {
      const conferences = await until(async () => {
        const list = await node.request('GET', '/Conferences.json?FriendlyName=same-room');
        const found = list.json.conferences as Array<{ sid: string; status: string }>;
        return found.length > 0 && found;
      });
      expect(conferences).toHaveLength(1);
      const conferenceSid = conferences[0]!.sid;
      const participants = await until(async () => {
        const list = await node.request('GET', `/Conferences/${conferenceSid}/Participants.json`);
        const found = (list.json.participants as Array<{ call_sid: string }>).map((p) => p.call_sid).sort();
        return found.length === 2 && found;
      }, 10_000, `both callers listed through the node on SIP port ${node.sipPort}`);
      expect(participants).toEqual([alice.callSid, bob.callSid].sort());
    }
    // One room across the two nodes (their rooms linked by a trunk): each hears the other, not itself.
    for (const [listener, other, own] of [
      [alice.phone, 600, 400],
      [bob.phone, 400, 600],
    ] as const) {
      // The rooms are linked by a node command through PostgreSQL; on a loaded machine (CI runs
      // the whole suite beside it) that and the trunk's first RTP may take seconds.
      await until(async () => (await listener.hearsTone(other, 1000)) > 1000, 30_000, () => `${listener.name} to hear ${other} Hz from the other node; the nodes' last lines:\n${nodes.map((n) => n.lines.slice(-15).join('\n')).join('\n---\n')}`);
      expect(meanAmplitude(listener.heardSince(performance.now() - 400, 20), own)).toBeLessThan(300);
    }
  }, 75_000);

  it('a phone registers to a SIP Domain through the proxy (Path), and a call to it from a node comes back through the proxy to where the phone registered from', async () => {
    const domainName = 'front.acme.example';
    const password = 'Correct-Horse-42';
    const api = nodes[0]!;
    const domain = await api.request('POST', '/SIP/Domains.json', { DomainName: domainName, SipRegistration: 'true', VoiceUrl: `${receiver.baseUrl}/voice` });
    expect(domain.status, domain.body).toBe(201);
    const list = await api.request('POST', '/SIP/CredentialLists.json', { FriendlyName: 'front phones' });
    await api.request('POST', `/SIP/CredentialLists/${list.json.sid as string}/Credentials.json`, { Username: 'bob', Password: password });
    const mapped = await api.request('POST', `/SIP/Domains/${domain.json.sid as string}/Auth/Registrations/CredentialListMappings.json`, { CredentialListSid: list.json.sid as string });
    expect(mapped.status, mapped.body).toBe(201);

    const phone = await SipPhone.open('bob', null);
    phones.push(phone);
    // The phone names an address behind its NAT, which nobody reaches: the proxy must send the
    // call to where the REGISTER came from (its Path's `received`), with this Request-URI.
    const privateContact = 'sip:bob@192.168.77.5:5060';
    const registered = await new PhoneRegistration(phone, `sip:bob@${domainName}`, { host: '127.0.0.1', port: kamailio.port }).register({ auth: { username: 'bob', password }, contacts: [`<${privateContact}>`], headers: [['Supported', 'path']] });
    expect(registered.status).toBe(200);
    // The node kept the proxy's Path (with where the phone registered from) and shows it to the phone.
    const [path] = registered.response.headers.getAll('Path');
    expect(parseNameAddr(path ?? '')?.sipUri?.port).toBe(kamailio.port);
    expect(path).toContain('received=');

    const node = nodes[1]!;
    const placed = await node.request('POST', '/Calls.json', { To: `sip:bob@${domainName}`, From: '+15005550006', Twiml: '<Response><Pause length="30"/></Response>' });
    expect(placed.status, placed.body).toBe(201);
    const callSid = placed.json.sid as string;
    const incoming = await phone.invited;
    expect(incoming.request.uri).toBe(privateContact);
    // It came through the proxy (its Via on top), which stays on the call's path (Record-Route).
    expect(incoming.request.headers.get('Via')).toContain(`:${kamailio.port}`);
    expect(incoming.request.headers.getAll('Record-Route').map((route) => parseNameAddr(route)?.sipUri?.port)).toContain(kamailio.port);
    const call = phone.accept(incoming);
    await until(async () => (await callStatus(node, callSid)) === 'in-progress', 10_000, 'the call to the registered phone to be answered');
    const ended = phone.ended();
    expect((await node.request('POST', `/Calls/${callSid}.json`, { Status: 'completed' })).status).toBe(200);
    expect((await ended).by).toBe('remote');
    expect(call.ended).toBe(true);
  });

  it('a phone calling a SIP Domain with digest credentials is let in although its answer to one node\'s 407 goes to the other node (round-robin)', async () => {
    const domainName = 'calls.acme.example';
    const password = 'Correct-Horse-43';
    const api = nodes[0]!;
    const domain = await api.request('POST', '/SIP/Domains.json', { DomainName: domainName, VoiceUrl: `${receiver.baseUrl}/voice` });
    expect(domain.status, domain.body).toBe(201);
    const list = await api.request('POST', '/SIP/CredentialLists.json', { FriendlyName: 'front callers' });
    await api.request('POST', `/SIP/CredentialLists/${list.json.sid as string}/Credentials.json`, { Username: 'carol', Password: password });
    const mapped = await api.request('POST', `/SIP/Domains/${domain.json.sid as string}/Auth/Calls/CredentialListMappings.json`, { CredentialListSid: list.json.sid as string });
    expect(mapped.status, mapped.body).toBe(201);

    // The front alternates nodes per new transaction: of two calls, at least one has its first
    // INVITE (challenged) and its second (with credentials) on different nodes — with a key of
    // each node's own, that one was challenged again and never answered.
    for (let i = 0; i < 2; i++) {
      const phone = await openPhone();
      const call = await phone.dial(`sip:alice@${domainName}`, { via: { host: '127.0.0.1', port: kamailio.port }, auth: { username: 'carol', password } });
      const callSid = String((await fetchOf(phone)).params.CallSid);
      const node = nodeOf(parseSipUri(call.dialog!.remoteTarget)!.port!);
      await until(async () => (await callStatus(node, callSid)) === 'in-progress', 10_000, `the domain call ${callSid} to be answered`);
      const ended = phone.ended();
      call.bye();
      expect((await ended).by).toBe('local');
    }
  });
});
