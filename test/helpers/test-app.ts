/**
 * A real Conclave on a real store, listening on 127.0.0.1 port 0, with an owner account; and
 * a small HTTP client that speaks Basic auth and form bodies, as curl or the helper library do.
 * Participants enter through the service layer (`join`), as the domain issue prescribes.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createApp, type App } from '../../src/app.js';
import { DEFAULT_HTTP_LIMITS, DEFAULT_MEDIA_CONFIG, type Config, type HttpLimits, type MediaConfig, type SipTlsConfig, type SipTrunkConfig } from '../../src/config.js';
import type { Clock } from '../../src/domain/ports.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { joinConference, type JoinRequest, type JoinResult } from '../../src/services/join-conference.js';
import { openTestStore, type StoreKind } from './stores.js';

export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
  /** The body parsed as JSON; throws when it is not JSON. */
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  form?: Record<string, string | string[]>;
  /** `user:password`, or null to send no Authorization header. Defaults to the owner. */
  auth?: string | null;
  headers?: Record<string, string>;
  body?: string;
}

export interface TestApp {
  app: App;
  baseUrl: string;
  accountSid: string;
  authToken: string;
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  join(friendlyName: string, options?: Omit<JoinRequest, 'accountSid' | 'friendlyName'> & { accountSid?: string }): Promise<JoinResult>;
  close(): Promise<void>;
}

export function testConfig(kind: StoreKind, options: { sip?: boolean | { host: string }; rtpTimeoutMs?: number; media?: Partial<MediaConfig>; sipTls?: SipTlsConfig; sipDnsServers?: string[] } = {}): Config {
  const host = typeof options.sip === 'object' ? options.sip.host : '127.0.0.1';
  return {
    // SIP on a free port of `host` (127.0.0.1 by default) when a test asks for it; RTP on the same address.
    ...(options.sip ? { sip: { host, port: 0, publicAddress: host, ...(options.sipTls ? { tls: options.sipTls } : {}), ...(options.sipDnsServers ? { dnsServers: options.sipDnsServers } : {}) } } : {}),
    media: { ...DEFAULT_MEDIA_CONFIG, host, ...(options.rtpTimeoutMs ? { rtpTimeoutMs: options.rtpTimeoutMs } : {}), ...options.media },
    http: { host: '127.0.0.1', port: 0 },
    database: kind === 'sqlite' ? { kind: 'sqlite', path: ':memory:' } : { kind: 'postgres', url: 'postgres://unused' },
    credentialsFile: '/nonexistent/credentials.json',
    logLevel: 'silent',
    // Short, so that the tests of a webhook that never answers finish quickly.
    webhooks: { twimlTimeoutMs: 1000, callbackTimeoutMs: 1000 },
    // Outside the repository; one directory per test process, shared by its nodes as a
    // deployment's nodes share theirs.
    recordings: { dir: TEST_RECORDINGS_DIR, retentionDays: 0 },
  };
}

const TEST_RECORDINGS_DIR = join(tmpdir(), `conclave-test-recordings-${process.pid}`);

export interface TestAppOptions {
  /** The clock of the services; the system clock when absent. */
  clock?: Clock;
  /** The owner's account SID; a fresh one when absent. */
  accountSid?: string;
  /** Listen for SIP (UDP and TCP) on a free port of 127.0.0.1, or of the host given (a netns veth address). */
  sip?: boolean | { host: string };
  /** SIP over TLS too (with `sip`): its port and PEM files. */
  sipTls?: SipTlsConfig;
  /** DNS servers for SIP host names (with `sip`; CONCLAVE_SIP_DNS_SERVERS), e.g. a test's dnsmasq. */
  sipDnsServers?: string[];
  /** The carrier trunk (with `sip`; CONCLAVE_SIP_TRUNK and its credentials and registration). */
  sipTrunk?: SipTrunkConfig;
  /** Hang up legs whose RTP stops for this long (default 30 s). */
  rtpTimeoutMs?: number;
  /** Media settings over the defaults (DEFAULT_MEDIA_CONFIG). */
  media?: Partial<MediaConfig>;
  /** The app's logger (default: silent). */
  logger?: Logger;
  /** HTTP limits over DEFAULT_HTTP_LIMITS (e.g. NO_LOGIN_THROTTLE for suites that send wrong credentials on purpose). */
  httpLimits?: Partial<HttpLimits>;
}

/** A clock the test sets by hand, for byte-exact dates. */
export class ManualClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  set(time: number): void {
    this.time = time;
  }
}

export async function startTestApp(kind: StoreKind, options: TestAppOptions = {}): Promise<TestApp> {
  const { store, cleanup } = await openTestStore(kind);
  const accountSid = options.accountSid ?? newSid('AC');
  const authToken = newAuthToken();
  const config = testConfig(kind, {
    sip: options.sip ?? false,
    ...(options.sipTls ? { sipTls: options.sipTls } : {}),
    ...(options.sipDnsServers ? { sipDnsServers: options.sipDnsServers } : {}),
    ...(options.rtpTimeoutMs ? { rtpTimeoutMs: options.rtpTimeoutMs } : {}),
    ...(options.media ? { media: options.media } : {}),
  });
  if (config.sip && options.sipTrunk) config.sip.trunk = options.sipTrunk;
  const app = await createApp(
    { ...config, http: { ...config.http, limits: { ...DEFAULT_HTTP_LIMITS, ...config.http.limits, ...options.httpLimits } } },
    { accountSid, authToken },
    { store, logger: options.logger ?? pino({ level: 'silent' }), ...(options.clock ? { clock: options.clock } : {}) },
  );
  const baseUrl = await app.listen();

  return {
    app,
    baseUrl,
    accountSid,
    authToken,
    request: apiClient(baseUrl, accountSid, authToken),
    join: (friendlyName, options = {}) =>
      joinConference(app.services, { accountSid: options.accountSid ?? accountSid, friendlyName, ...options }),
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

/** The HTTP client of a server at `baseUrl`, sending the owner's credentials unless told otherwise. */
export function apiClient(baseUrl: string, accountSid: string, authToken: string): TestApp['request'] {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.auth === undefined ? `${accountSid}:${authToken}` : options.auth;
    if (auth !== null) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    let body = options.body;
    if (options.form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(options.form)) for (const one of [v].flat()) params.append(k, one);
      body = params.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const response = await fetch(baseUrl + path, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text, json: () => JSON.parse(text) };
  };
}

/** Places a call with inline TwiML through the REST API (Calls.create); resolves with its CallSid. */
export async function placeCall(t: TestApp, to: string, twiml: string, from = '+15005550006'): Promise<string> {
  const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls.json`, { form: { To: to, From: from, Twiml: twiml } });
  if (res.status !== 201) throw new Error(`Calls.create answered ${res.status}: ${res.body}`);
  return res.json<{ sid: string }>().sid;
}

/** Buys `phoneNumber` for the test account (IncomingPhoneNumbers), answered by `voiceUrl`. */
export async function ownNumber(t: TestApp, phoneNumber: string, voiceUrl: string): Promise<void> {
  const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: phoneNumber, VoiceUrl: voiceUrl } });
  if (res.status !== 201) throw new Error(`IncomingPhoneNumbers.create answered ${res.status}: ${res.body}`);
}
