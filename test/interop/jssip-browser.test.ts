/**
 * JsSIP — a WebRTC SIP client as a web app ships it — in Debian's Chromium (Playwright), against
 * a real Conclave over SIP over WebSocket (RFC 7118, ws://…/sip on the API port): it registers to
 * a SIP Domain with the digest credentials mapped for registrations, calls a number at the
 * domain (`sip:+1555…@<domain>`, the domain's 407 answered with the same credentials) whose
 * TwiML puts it in a conference with a `sim:` participant, and the sim's recording
 * hears the browser's microphone (Chromium's fake capture playing a 1 kHz WAV written here); and
 * a call to `sip:alice@<domain>` (its TwiML joins the conference) rings the registered page, which
 * answers, the sim hears it, and ending the call through the API reaches the page as a BYE. A
 * hold and resume (re-INVITEs on the WebSocket) silence the browser at the sim and bring it back.
 *
 * JsSIP is bundled for the page with esbuild at test time (a temp directory); the page is served
 * by a loopback HTTP server of the test (test/interop/jssip-page.js drives JsSIP).
 * `JSSIP_DEBUG=1` prints the page's console with JsSIP's own debug log (every SIP message).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatedAudio, untilHearing } from '../helpers/hearing.js';
import { createRegistrarDomain, createResource } from '../helpers/registrar-domain.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { toneWav } from '../helpers/tone-wav.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, startTwimlApp, type Receiver, type TwimlRoutes } from '../helpers/webhook-receiver.js';

/** The console test's flags (Debian's Chromium on a closed network) and fake media: no prompt, the WAV as the microphone. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const mediaFlags = (wav: string): string[] => ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'];

const DOMAIN = 'webrtc.acme.example';
const PASSWORD = 'Correct-Horse-42';
const NUMBER = '+15551230002';
const ROOM = 'jssip-room';
const BROWSER_TONE = 1000;
const SIM_TONE = 440;
/** The sim's recording (mean amplitude of the tone's bin, 8 kHz): a full-scale tone gives ~8000. */
const LEVELS = { heard: 1000, silent: 300 };
const PAGE_PATH = '/jssip-test/';
const TEST_TIMEOUT_MS = 90_000;

interface JssipHarness {
  log: Array<{ event: string; cause?: string | null }>;
  register(options: { wsUrl: string; uri: string; password: string }): Promise<{ state: string; status?: number | null; cause?: string }>;
  call(target: string): Promise<{ state: string; cause?: string }>;
  answer(): Promise<{ state: string; cause?: string }>;
  hold(on: boolean): Promise<{ held?: boolean; refused?: boolean }>;
  hangup(): boolean | null;
  stop(): Promise<void>;
}
declare const jssipHarness: JssipHarness;

let scratch: string;
let wav: string;
let bundle: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'conclave-jssip-'));
  wav = join(scratch, 'tone-1khz.wav');
  await writeFile(wav, toneWav(BROWSER_TONE));
  // JsSIP for the page as a web app bundles it: one script, `window.JsSIP`.
  const out = join(scratch, 'jssip.js');
  await build({ stdin: { contents: "import JsSIP from 'jssip'; window.JsSIP = JsSIP;", resolveDir: process.cwd(), loader: 'js' }, bundle: true, format: 'iife', platform: 'browser', outfile: out, logLevel: 'silent' });
  bundle = await readFile(out, 'utf-8');
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('JsSIP in Chromium over SIP over WebSocket', { timeout: TEST_TIMEOUT_MS }, () => {
  let t: TestApp;
  let web: Receiver;
  let app: TwimlRoutes;
  let browser: BrowserContext | undefined;
  let page: Page;
  let pages: Receiver | undefined;

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    ({ web, routes: app } = await startTwimlApp());
    await createRegistrarDomain(t, DOMAIN, `${web.baseUrl}/domain`, [{ username: 'alice', password: PASSWORD }]);
    const profile = await mkdtemp(join(scratch, 'profile-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_FLAGS, ...mediaFlags(wav)] });
    page = browser.pages()[0] ?? (await browser.newPage());
    // Served from a real loopback server: a page Playwright fulfils counts as public, and
    // Chromium's Local Network Access checks then block its WebSocket to 127.0.0.1.
    const script = await readFile(join(import.meta.dirname, 'jssip-page.js'), 'utf-8');
    pages = await startReceiver((request, response) => {
      if (request.path.endsWith('/jssip.js')) answer(response, 200, 'text/javascript', bundle);
      else if (request.path.endsWith('/page.js')) answer(response, 200, 'text/javascript', script);
      else answer(response, 200, 'text/html', '<!doctype html><title>JsSIP test</title><script src="jssip.js"></script><script src="page.js"></script>');
    });
    if (process.env.JSSIP_DEBUG) page.on('console', (m) => console.error('[page]', m.text()));
    await page.goto(`${pages.baseUrl}${PAGE_PATH}`);
    if (process.env.JSSIP_DEBUG) await page.evaluate(() => (globalThis as unknown as { JsSIP: { debug: { enable(s: string): void } } }).JsSIP.debug.enable('JsSIP:*'));
    await page.waitForFunction('window.jssipHarness !== undefined');
  });
  afterEach(async () => {
    await page?.evaluate(() => jssipHarness.stop()).catch(() => undefined);
    await browser?.close();
    await t?.close();
    await web?.close();
    await pages?.close();
  });

  const wsUrl = (): string => `${t.baseUrl.replace(/^http/, 'ws')}/sip`;
  const register = (password = PASSWORD): ReturnType<JssipHarness['register']> =>
    page.evaluate((options) => jssipHarness.register(options), { wsUrl: wsUrl(), uri: `sip:alice@${DOMAIN}`, password });
  const callStatus = async (sid: string): Promise<string> => (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls/${sid}.json`)).json<{ status: string }>().status;

  it('registers with digest credentials (a wrong password is refused)', async () => {
    expect(await register('Wrong-Horse-42')).toMatchObject({ state: 'failed', status: 403 });
    await page.evaluate(() => jssipHarness.stop());
    expect(await register()).toEqual({ state: 'registered', status: 200 });
  });

  it("calls a number at its SIP Domain (answering the domain's 407) whose TwiML joins a conference: the sim in it hears the browser, not while it holds, and again after it resumes", async () => {
    // The domain takes calls with the same credentials (Auth/Calls); a WebSocket client calls numbers through it (sip-inbound.ts).
    const domainSid = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/SIP/Domains.json`)).json<{ domains: Array<{ sid: string }> }>().domains[0]!.sid;
    const listSid = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/SIP/CredentialLists.json`)).json<{ credential_lists: Array<{ sid: string }> }>().credential_lists[0]!.sid;
    await createResource(t, `/SIP/Domains/${domainSid}/Auth/Calls/CredentialListMappings.json`, { CredentialListSid: listSid });
    let asked: Record<string, string | string[]> | undefined;
    app.set('/domain', (request) => {
      asked = request.params;
      return `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`;
    });
    const sim = await placeCall(t, `sim:x;tone=${SIM_TONE};record`, `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);
    expect((await register()).state).toBe('registered');
    expect(await page.evaluate((target) => jssipHarness.call(target), `sip:${NUMBER}@${DOMAIN}`)).toEqual({ state: 'confirmed' });
    expect(asked).toMatchObject({ To: `sip:${NUMBER}@${DOMAIN}`, SipDomain: DOMAIN });
    const heard = (): Promise<Int16Array> => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, sim);
    await untilHearing(heard, 'the sim', [BROWSER_TONE], [], LEVELS);
    // Hold and resume: re-INVITEs on the WebSocket (a=sendonly, then sendrecv), answered in kind; the browser is heard again after.
    expect(await page.evaluate(() => jssipHarness.hold(true))).toEqual({ held: true });
    await untilHearing(heard, 'the sim', [], [BROWSER_TONE], LEVELS);
    expect(await page.evaluate(() => jssipHarness.hold(false))).toEqual({ held: false });
    await untilHearing(heard, 'the sim', [BROWSER_TONE], [], LEVELS);
    expect(await page.evaluate(() => jssipHarness.hangup())).toBe(true);
    await until(async () => {
      const res = await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json?To=${encodeURIComponent(`sip:${NUMBER}@${DOMAIN}`)}`);
      return res.json<{ calls: Array<{ status: string }> }>().calls[0]?.status === 'completed';
    }, 10_000, 'the browser call to complete');
  });

  it('is rung by a call to sip:alice@<domain> and answers: the sim in its conference hears the browser, and our BYE reaches the page', async () => {
    expect((await register()).state).toBe('registered');
    const sim = await placeCall(t, `sim:x;tone=${SIM_TONE};record`, `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);
    const caller = await placeCall(t, `sip:alice@${DOMAIN}`, `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);
    await until(async () => (await page.evaluate(() => jssipHarness.log)).some((entry) => entry.event === 'incoming'), 10_000, 'the page to be rung');
    expect(await page.evaluate(() => jssipHarness.answer())).toEqual({ state: 'confirmed' });
    await until(async () => (await callStatus(caller)) === 'in-progress', 10_000, 'the call in progress');
    await untilHearing(() => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, sim), 'the sim', [BROWSER_TONE], [], LEVELS);
    const ended = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Calls/${caller}.json`, { form: { Status: 'completed' } });
    expect(ended.status).toBe(200);
    await until(async () => (await page.evaluate(() => jssipHarness.log)).some((entry) => entry.event === 'session.ended'), 10_000, 'the page to see the BYE');
  });
});
