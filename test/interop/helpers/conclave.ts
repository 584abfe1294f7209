/**
 * A real Conclave for interop tests: SIP (UDP and TCP) and RTP on the host end of a network
 * namespace's veth, a number whose VoiceUrl (a local webhook receiver) answers TwiML that puts
 * the caller in a conference, every conference event kept, and the REST calls the tests make:
 * place a `sim:` endpoint, read its recording as it grows, poll a call until it is final.
 */
import type { SipTlsConfig } from '../../../src/config.js';
import type { ConferenceEvent, ParticipantEvent } from '../../../src/domain/events.js';
import { isParticipantEvent } from '../../../src/domain/events.js';
import { startTestApp, type HttpResult, type TestApp } from '../../helpers/test-app.js';
import { answer, startReceiver, type Receiver, type ReceivedRequest } from '../../helpers/webhook-receiver.js';
import type { Netns } from './netns.js';
import { parseWav } from './wav.js';
import { until } from '../../helpers/until.js';

export const NUMBER = '+15005550100';
export const ROOM_TWIML = '<Response><Dial><Conference beep="false">room</Conference></Dial></Response>';

export interface Conclave {
  readonly t: TestApp;
  readonly web: Receiver;
  /** Every conference event since the start, in order. */
  readonly events: ConferenceEvent[];
  readonly sipHost: string;
  readonly sipPort: number;
  /** What the VoiceUrl answers; may return a promise (to hold the webhook). */
  voice: (request: ReceivedRequest) => string | Promise<string>;
  /** `sip:<user>@host:port` (+ `;transport=tcp`). */
  uri(user?: string, transport?: 'udp' | 'tcp'): string;
  /** `/2010-04-01/Accounts/{AC}` + path. */
  path(path: string): string;
  request(method: string, path: string, form?: Record<string, string>): Promise<HttpResult>;
  /** Places `sim:…` into the TwiML's conference; resolves with its CallSid once it is a connected participant. */
  placeSim(to: string, twiml?: string): Promise<{ callSid: string; conferenceSid: string }>;
  /** The first participant event (past or future) that matches. */
  waitParticipant(match: (event: ParticipantEvent) => boolean, timeoutMs?: number): Promise<ParticipantEvent>;
  /** Everything the `sim:…;record` call heard so far, 8 kHz, scaled to −1…1. */
  recording(callSid: string): Promise<Float32Array>;
  /** Polls the recording until it holds at least `samples` samples. */
  recordingUntil(callSid: string, samples: number, timeoutMs?: number): Promise<Float32Array>;
  /** GET the call (JSON). */
  call(callSid: string): Promise<Record<string, unknown>>;
  /** Polls the call until `match` (default: a final status). */
  waitCall(callSid: string, match?: (call: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Polls the Calls list until one call matches. */
  waitCallListed(match: (call: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

const FINAL = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);


/** Starts Conclave with SIP and RTP on `netns.hostAddress` and buys NUMBER with a VoiceUrl. */
export async function startConclave(netns: Netns, options: { rtpTimeoutMs?: number; sipTls?: SipTlsConfig } = {}): Promise<Conclave> {
  const t = await startTestApp('sqlite', { sip: { host: netns.hostAddress }, ...(options.rtpTimeoutMs ? { rtpTimeoutMs: options.rtpTimeoutMs } : {}), ...(options.sipTls ? { sipTls: options.sipTls } : {}) });
  const events: ConferenceEvent[] = [];
  const wakers = new Set<() => void>();
  t.app.bus.subscribe((event) => {
    events.push(event);
    for (const wake of [...wakers]) wake();
  });
  const sip = t.app.sipAddress();
  if (!sip) throw new Error('Conclave started without SIP');
  const path = (p: string): string => `/2010-04-01/Accounts/${t.accountSid}${p}`;
  const request = (method: string, p: string, form?: Record<string, string>): Promise<HttpResult> => t.request(method, path(p), form ? { form } : {});

  const waitParticipant = (match: (event: ParticipantEvent) => boolean, timeoutMs = 10_000): Promise<ParticipantEvent> =>
    new Promise((resolve, reject) => {
      let seen = 0;
      const check = (): void => {
        for (; seen < events.length; seen++) {
          const event = events[seen] as ConferenceEvent;
          if (isParticipantEvent(event) && match(event)) {
            finish();
            resolve(event);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no such participant event within ${timeoutMs} ms; events: ${events.map(describeEvent).join(', ')}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      wakers.add(check);
      check();
    });

  const recording = async (callSid: string): Promise<Float32Array> => {
    const res = await fetch(`${t.baseUrl}${path(`/Calls/${callSid}/SimulatedAudio.wav`)}`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}` },
    });
    if (res.status !== 200) throw new Error(`SimulatedAudio.wav of ${callSid}: ${res.status} ${await res.text()}`);
    return parseWav(Buffer.from(await res.arrayBuffer())).samples;
  };

  const call = async (callSid: string): Promise<Record<string, unknown>> => {
    const res = await request('GET', `/Calls/${callSid}.json`);
    if (res.status !== 200) throw new Error(`GET call ${callSid}: ${res.status} ${res.body}`);
    return res.json();
  };

  let web: Receiver | undefined;
  const conclave: Conclave = {
    t,
    get web(): Receiver {
      if (!web) throw new Error('the webhook receiver is not started');
      return web;
    },
    events,
    sipHost: sip.host,
    sipPort: sip.port,
    voice: () => ROOM_TWIML,
    uri: (user = NUMBER, transport = 'udp') => `sip:${user}@${sip.host}:${sip.port}${transport === 'tcp' ? ';transport=tcp' : ''}`,
    path,
    request,
    async placeSim(to, twiml = ROOM_TWIML) {
      const res = await request('POST', '/Calls.json', { To: to, From: '+15005550006', Twiml: twiml });
      if (res.status !== 201) throw new Error(`POST Calls.json ${to}: ${res.status} ${res.body}`);
      const callSid = res.json<{ sid: string }>().sid;
      const joined = await waitParticipant((e) => e.type === 'join' && e.participant.callSid === callSid && e.participant.status === 'connected');
      return { callSid, conferenceSid: joined.conference.sid };
    },
    waitParticipant,
    recording,
    async recordingUntil(callSid, samples, timeoutMs = 10_000) {
      let last: Float32Array = new Float32Array(0);
      return until(
        async () => {
          last = await recording(callSid);
          return last.length >= samples ? last : undefined;
        },
        timeoutMs,
        () => `recording of ${callSid} has ${last.length} of ${samples} samples`,
      );
    },
    call,
    async waitCall(callSid, match = (c) => FINAL.has(String(c.status)), timeoutMs = 10_000) {
      let last: Record<string, unknown> = {};
      return until(
        async () => {
          last = await call(callSid);
          return match(last) ? last : undefined;
        },
        timeoutMs,
        () => `call ${callSid}: ${JSON.stringify(last)}`,
      );
    },
    async waitCallListed(match, timeoutMs = 10_000) {
      let last: Array<Record<string, unknown>> = [];
      return until(
        async () => {
          const res = await request('GET', '/Calls.json');
          last = res.json<{ calls: Array<Record<string, unknown>> }>().calls;
          return last.find(match);
        },
        timeoutMs,
        () => `calls: ${JSON.stringify(last.map((c) => ({ sid: c.sid, direction: c.direction, status: c.status, from: c.from, to: c.to })))}`,
      );
    },
    async close() {
      await t.close();
      await web?.close();
    },
  };
  try {
    web = await startReceiver(async (req, response) => {
      answer(response, 200, 'text/xml', await conclave.voice(req));
    });
    const res = await request('POST', '/IncomingPhoneNumbers.json', { PhoneNumber: NUMBER, VoiceUrl: `${web.baseUrl}/voice` });
    if (res.status !== 201) throw new Error(`POST IncomingPhoneNumbers.json: ${res.status} ${res.body}`);
    return conclave;
  } catch (error) {
    await conclave.close().catch(() => undefined);
    throw error;
  }
}

function describeEvent(event: ConferenceEvent): string {
  return isParticipantEvent(event) ? `${event.type}:${event.participant.callSid}:${event.participant.label ?? ''}:${event.participant.status}` : event.type;
}
