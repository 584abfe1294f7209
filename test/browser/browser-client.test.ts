/**
 * The shipped browser client (public/client/conclave-voice.js) in Debian's Chromium, driven by
 * Playwright against a real Conclave (issue 16's tests): Chromium's fake microphone plays a WAV
 * of a steady 1 kHz tone written here, and `sim:` endpoints play 440 Hz and record what they
 * hear. A page signed in with a Twilio Access Token (the helper library's jwt.AccessToken with a
 * VoiceGrant) places a call that runs its Application's TwiML into a conference with a sim: the
 * sim's recording hears the browser's tone, the page's WebAudio analyser hears the sim's, and
 * call.mute(true) and Participants update Muted=true each silence the browser at the sim. A `<Dial><Client>` rings the
 * signed-in page, which answers; bad, forged and expired tokens are refused with Twilio's codes.
 * And the console's "Join from this browser" and "Listen", end to end.
 *
 * The test page is not one of Conclave's: an app's own page on another origin (a local HTTP
 * server here) imports the client from Conclave (`/client/conclave-voice.js`, open to any
 * origin) and drives it (test/browser/harness.js); the client's WebSocket goes to the server it
 * came from. (Playwright's route.fulfill would not do: Chromium puts a page it made up in the
 * public address space, and Local Network Access then blocks its WebSocket to 127.0.0.1.)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatedAudio, untilHearing } from '../helpers/hearing.js';
import { placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { toneWav } from '../helpers/tone-wav.js';
import { until } from '../helpers/until.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

/** The console test's flags (Debian's Chromium on a closed network), and fake media: no prompt, the WAV as the microphone, audio played without a gesture. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const mediaFlags = (wav: string): string[] => ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'];
/** A user who says no to the microphone: the permission prompt is denied, as a click on Block would. */
const DENY_MICROPHONE = ['--use-fake-device-for-media-stream', '--deny-permission-prompts', '--autoplay-policy=no-user-gesture-required'];

const BROWSER_TONE = 1000;
const SIM_TONE = 440;
const ROOM = 'browser-room';
/** The sim's recording (mean amplitude of the tone's bin, 8 kHz): a full-scale tone gives ~8000. */
const LEVELS = { heard: 1000, silent: 300 };
/** The page's analyser, dBFS in the tone's bins: the floor is -100 or below. */
const PAGE_LEVELS = { heard: -50, silent: -80 };
const TEST_TIMEOUT_MS = 90_000;
const HARNESS = join(import.meta.dirname, 'harness.js');

/** What test/browser/harness.js offers on `window.harness` (see there). */
interface Harness {
  log: Array<Record<string, unknown> & { event: string }>;
  nextToken: string | null;
  register(token: string, options?: { tokenRefreshMs?: number }): Promise<{ identity?: string; code?: number; message?: string; state: string }>;
  connect(params: Record<string, string>): Promise<{ CallSid: string; From: string; To: string }>;
  answer(): Promise<{ CallSid: string; From: string; To: string }>;
  mute(muted: boolean): boolean;
  sendDigits(digits: string): void;
  hangup(): string;
  status(): string | null;
  levels(tones: number[]): { tones: Record<number, number>; loudestHz: number; state: string } | null;
}
declare const harness: Harness;

let scratch: string;
let wav: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'conclave-browser-'));
  wav = join(scratch, 'tone-1khz.wav');
  await writeFile(wav, toneWav(BROWSER_TONE));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Debian's Chromium with fake media (the tone as its microphone, or a microphone refused) on a fresh profile. */
async function launch(media = mediaFlags(wav)): Promise<{ browser: BrowserContext; page: Page; profile: string }> {
  const profile = await mkdtemp(join(scratch, 'profile-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_FLAGS, ...media] });
  const page = browser.pages()[0] ?? (await browser.newPage());
  return { browser, page, profile };
}

/**
 * The harness page on its own origin: an import map sends its `/client/conclave-voice.js` to
 * Conclave's, as an app's page would name it in full.
 */
async function serveHarness(t: TestApp): Promise<Receiver> {
  const script = await readFile(HARNESS, 'utf-8');
  const imports = JSON.stringify({ imports: { '/client/conclave-voice.js': `${t.baseUrl}/client/conclave-voice.js` } });
  const html = `<!doctype html><title>browser client test</title><script type="importmap">${imports}</script><script type="module" src="/harness.js"></script>`;
  return startReceiver((request, response) => {
    if (request.path === '/harness.js') answer(response, 200, 'text/javascript', script);
    else answer(response, 200, 'text/html', html);
  });
}

async function openHarness(site: Receiver, page: Page): Promise<void> {
  await page.goto(`${site.baseUrl}/`);
  await page.waitForFunction('window.harness !== undefined');
}

interface ApiKey {
  sid: string;
  secret: string;
}

async function apiKey(t: TestApp): Promise<ApiKey> {
  const res = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Keys.json`, { form: { FriendlyName: 'browser tests' } });
  expect(res.status).toBe(201);
  return res.json<ApiKey>();
}

/** An Access Token as a Twilio app's token endpoint makes it (twilio-node's jwt.AccessToken). */
function accessToken(t: TestApp, key: ApiKey, identity: string, grant: { outgoingApplicationSid?: string } = {}, ttl = 600): string {
  const token = new twilio.jwt.AccessToken(t.accountSid, key.sid, key.secret, { identity, ttl });
  token.addGrant(new twilio.jwt.AccessToken.VoiceGrant({ incomingAllow: true, ...grant }));
  return token.toJwt();
}

const api = (t: TestApp, path: string): string => `/2010-04-01/Accounts/${t.accountSid}${path}`;

/** The conference's SID, once it exists. */
function conferenceSid(t: TestApp, name: string): Promise<string> {
  return until(async () => (await t.request('GET', api(t, `/Conferences.json?FriendlyName=${encodeURIComponent(name)}&Status=in-progress`))).json<{ conferences: { sid: string }[] }>().conferences[0]?.sid, 10_000, `conference ${name}`);
}

/** Until the page's analyser hears `heard` and not `silent` in the current call's remote audio. */
async function untilPageHears(page: Page, heard: number[], silent: number[]): Promise<void> {
  let last: unknown = null;
  await until(
    async () => {
      const levels = await page.evaluate((tones) => harness.levels(tones), [...heard, ...silent]);
      last = levels;
      if (!levels) return false;
      return heard.every((hz) => levels.tones[hz]! > PAGE_LEVELS.heard) && silent.every((hz) => levels.tones[hz]! < PAGE_LEVELS.silent);
    },
    15_000,
    () => `the page to hear ${heard.join(', ') || 'nothing'} Hz and not ${silent.join(', ') || '-'} Hz (last: ${JSON.stringify(last)})`,
    100,
  );
}

describe('the browser client in Chromium', { timeout: TEST_TIMEOUT_MS }, () => {
  let t: TestApp;
  let web: Receiver;
  let site: Receiver;
  let key: ApiKey;
  let chromiumRun: { browser: BrowserContext; page: Page; profile: string } | undefined;
  let page: Page;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    web = await startReceiver((request, response) => {
      const twiml: Record<string, string> = {
        '/voice': `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`,
        '/keys': `<Response><Gather action="/digits" numDigits="3" timeout="10"/></Response>`,
        '/digits': '<Response><Hangup/></Response>',
      };
      answer(response, 200, 'text/xml', twiml[request.path.split('?')[0]!] ?? '<Response/>');
    });
    key = await apiKey(t);
    site = await serveHarness(t);
    chromiumRun = await launch();
    page = chromiumRun.page;
    await openHarness(site, page);
  });
  afterEach(async () => {
    await chromiumRun?.browser.close();
    await t?.close();
    await web?.close();
    await site?.close();
  });

  it("places a call that runs its Application's TwiML into a conference with a sim: each hears the other, and call.mute and muting the browser's participant silence it", async () => {
    const application = (await t.request('POST', api(t, '/Applications.json'), { form: { FriendlyName: 'browser room', VoiceUrl: `${web.baseUrl}/voice` } })).json<{ sid: string }>();
    const sim = await placeCall(t, `sim:x;tone=${SIM_TONE};record`, `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);

    const registered = await page.evaluate((token) => harness.register(token), accessToken(t, key, 'alice', { outgoingApplicationSid: application.sid }));
    expect(registered).toEqual({ identity: 'alice', state: 'registered' });
    const call = await page.evaluate((room) => harness.connect({ To: room, Topic: 'tests' }), ROOM);
    expect(call.CallSid).toMatch(/^CA[0-9a-f]{32}$/);

    // The Application's VoiceUrl was asked with Twilio's parameters of a call a client places.
    await web.received(1);
    expect(web.requests[0]!.params).toMatchObject({ From: 'client:alice', Caller: 'client:alice', To: ROOM, Topic: 'tests', Direction: 'inbound', ApplicationSid: application.sid, CallSid: call.CallSid, AccountSid: t.accountSid });

    const heard = (): Promise<Int16Array> => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, sim);
    await untilHearing(heard, 'the sim', [BROWSER_TONE], [], LEVELS);
    await untilPageHears(page, [SIM_TONE], []);

    // The page's own mute (the track disabled: it sends silence), and back.
    expect(await page.evaluate(() => harness.mute(true))).toBe(true);
    await untilHearing(heard, 'the sim', [], [BROWSER_TONE], LEVELS);
    expect(await page.evaluate(() => harness.mute(false))).toBe(false);
    await untilHearing(heard, 'the sim', [BROWSER_TONE], [], LEVELS);

    const room = await conferenceSid(t, ROOM);
    const muted = await t.request('POST', api(t, `/Conferences/${room}/Participants/${call.CallSid}.json`), { form: { Muted: 'true' } });
    expect(muted.json<{ muted: boolean }>().muted).toBe(true);
    await untilHearing(heard, 'the sim', [], [BROWSER_TONE], LEVELS);
    // Muted, it still hears the room.
    await untilPageHears(page, [SIM_TONE], []);

    expect(await page.evaluate(() => harness.hangup())).toBe('closed');
    await until(async () => (await t.request('GET', api(t, `/Calls/${call.CallSid}.json`))).json<{ status: string }>().status === 'completed', 10_000, 'the browser call to complete');
    await untilHearing(heard, 'the sim', [], [BROWSER_TONE], LEVELS);
  });

  it('is rung by a <Dial><Client> with its <Parameter>s and answers: the caller hears the browser and the page hears the caller', async () => {
    expect((await page.evaluate((token) => harness.register(token), accessToken(t, key, 'bob'))).identity).toBe('bob');
    const caller = await placeCall(t, `sim:caller;tone=${SIM_TONE};record`, '<Response><Dial><Client><Identity>bob</Identity><Parameter name="topic" value="tests"/></Client></Dial></Response>');

    const incoming = await until(async () => (await page.evaluate(() => harness.log)).find((entry) => entry.event === 'incoming'), 10_000, 'the page to be rung');
    expect(incoming).toMatchObject({ to: 'client:bob', params: { topic: 'tests' } });
    const answered = await page.evaluate(() => harness.answer());
    expect(answered.CallSid).toBe(incoming.callSid);

    await untilHearing(() => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, caller), 'the caller', [BROWSER_TONE], [], LEVELS);
    await untilPageHears(page, [SIM_TONE], []);
    const dialled = (await t.request('GET', api(t, `/Calls/${answered.CallSid}.json`))).json<{ to: string; parent_call_sid: string; status: string }>();
    expect(dialled).toMatchObject({ to: 'client:bob', parent_call_sid: caller, status: 'in-progress' });
  });

  it('sends keys with sendDigits: a <Gather> of its application hears them', async () => {
    const application = (await t.request('POST', api(t, '/Applications.json'), { form: { FriendlyName: 'keys', VoiceUrl: `${web.baseUrl}/keys` } })).json<{ sid: string }>();
    await page.evaluate((token) => harness.register(token), accessToken(t, key, 'dave', { outgoingApplicationSid: application.sid }));
    const call = await page.evaluate(() => harness.connect({ To: 'keys' }));
    await page.evaluate(() => harness.sendDigits('4w2#'));
    await until(() => web.requests.find((request) => request.path === '/digits'), 10_000, 'the Gather action');
    // '#' ends the Gather (its finishOnKey) and is not in Digits, as on Twilio.
    expect(web.requests.find((request) => request.path === '/digits')!.params).toMatchObject({ CallSid: call.CallSid, Digits: '42' });
  });

  it("says 'tokenWillExpire' before its token expires, and after updateToken is still signed in and rung past the first token's end", async () => {
    const TTL_S = 8;
    await page.evaluate((token) => (harness.nextToken = token), accessToken(t, key, 'carol'));
    expect((await page.evaluate(([token, refresh]) => harness.register(token, { tokenRefreshMs: refresh }), [accessToken(t, key, 'carol', {}, TTL_S), (TTL_S - 2) * 1000] as const)).identity).toBe('carol');
    await until(async () => (await page.evaluate(() => harness.log)).some((entry) => entry.event === 'tokenWillExpire'), 10_000, "'tokenWillExpire'");
    // Past the first token's exp, when Conclave stops ringing a session that kept it (and says 20104).
    const expiredAt = Date.now() + 2_000 + TTL_S * 1000;
    await until(() => Date.now() > expiredAt, TTL_S * 1000 + 5_000, "the first token's end", 250);
    await placeCall(t, 'sim:late', '<Response><Dial><Client>carol</Client></Dial></Response>');
    await until(async () => (await page.evaluate(() => harness.log)).some((entry) => entry.event === 'incoming'), 10_000, 'the page to be rung');
    expect((await page.evaluate(() => harness.log)).filter((entry) => entry.event === 'error')).toEqual([]);
  });

  it('is refused with a malformed token (20101), a forged one and an expired one, and says so in an error event', async () => {
    const malformed = await page.evaluate(() => harness.register('not-a-token'));
    expect(malformed).toMatchObject({ code: 20101, state: 'unregistered' });
    expect((await page.evaluate(() => harness.log)).filter((entry) => entry.event === 'error').map((entry) => entry.code)).toEqual([20101]);

    const forged = await page.evaluate((token) => harness.register(token), accessToken(t, { sid: key.sid, secret: 'not-the-secret-of-this-key-0000' }, 'mallory'));
    expect(forged.state).toBe('unregistered');
    expect([20101, 20107]).toContain(forged.code);

    const expired = await page.evaluate((token) => harness.register(token), accessToken(t, key, 'late', {}, -120));
    expect(expired).toMatchObject({ code: 20104, state: 'unregistered' });
  });
});

/** Opens the console and signs in with the account's auth token, as test/console does. */
async function signInToConsole(t: TestApp, page: Page): Promise<void> {
  await page.goto(`${t.baseUrl}/console`);
  await page.getByLabel('Account SID').fill(t.accountSid);
  await page.getByLabel('Auth token or API key secret').fill(t.authToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Conferences' }).waitFor();
}

describe("the console's browser phone", { timeout: TEST_TIMEOUT_MS }, () => {
  const POLL = { timeout: 15_000 };
  let t: TestApp;
  let chromiumRun: { browser: BrowserContext; page: Page; profile: string } | undefined;
  let page: Page;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    chromiumRun = await launch();
    page = chromiumRun.page;
    await signInToConsole(t, page);
  });
  afterEach(async () => {
    await chromiumRun?.browser.close();
    await t?.close();
  });

  /** The identity the tab registered, from its status line. */
  async function consoleIdentity(): Promise<string> {
    const line = await until(async () => {
      const text = (await page.locator('#phone-state').textContent()) ?? '';
      return /client:(console-[0-9a-f]{8})/.exec(text)?.[1];
    }, 15_000, "the console's browser phone to register");
    return line;
  }

  it('"Join from this browser" puts the page in a live conference (the sim hears it), Leave hangs up, and "Listen" joins muted', async () => {
    const sim = await placeCall(t, `sim:talker;tone=${SIM_TONE};record`, `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);
    const identity = await consoleIdentity();
    const room = page.getByRole('region', { name: ROOM });
    await room.waitFor({ timeout: 15_000 });

    await room.getByRole('button', { name: `Join ${ROOM} from this browser` }).click();
    await expect.poll(() => page.locator('#phone-call-text').textContent(), POLL).toBe(`In ${ROOM} from this browser: connected`);
    await expect.poll(() => room.locator('li.participant').count(), POLL).toBe(2);
    await expect.poll(() => room.locator('li.participant .name').allTextContents(), POLL).toContain(`client:${identity}`);
    expect(await room.getByRole('button', { name: `Listen to ${ROOM} from this browser` }).isDisabled()).toBe(true);
    await untilHearing(() => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, sim), 'the sim', [BROWSER_TONE], [], LEVELS);

    await page.getByRole('button', { name: 'Leave' }).click();
    await expect.poll(() => room.locator('li.participant').count(), POLL).toBe(1);
    expect(await page.locator('#phone-call').isHidden()).toBe(true);

    // By keyboard: Listen, then the focus is on Leave.
    await room.getByRole('button', { name: `Listen to ${ROOM} from this browser` }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#phone-call-text').textContent(), POLL).toBe(`Listening to ${ROOM} from this browser: connected`);
    await expect.poll(() => room.locator('li.participant .flags').allTextContents(), POLL).toContain('muted');
    expect(await page.evaluate('document.activeElement.id')).toBe('phone-leave');
    await page.keyboard.press('Enter');
    await expect.poll(() => room.locator('li.participant').count(), POLL).toBe(1);
  });

  it('offers a call to its identity with Answer and Decline; answered, the caller hears the browser', async () => {
    const identity = await consoleIdentity();
    const declined = await placeCall(t, 'sim:first', `<Response><Dial><Client>${identity}</Client></Dial></Response>`);
    const prompt = page.getByRole('alert').filter({ hasText: 'Incoming call from' });
    await prompt.waitFor({ timeout: 15_000 });
    await prompt.getByRole('button', { name: 'Decline' }).click();
    await prompt.waitFor({ state: 'hidden' });
    await until(async () => (await t.request('GET', api(t, `/Calls/${declined}.json`))).json<{ status: string }>().status === 'completed', 15_000, 'the declined caller to hang up');

    const caller = await placeCall(t, `sim:second;tone=${SIM_TONE};record`, `<Response><Dial><Client>${identity}</Client></Dial></Response>`);
    await prompt.waitFor({ timeout: 15_000 });
    await prompt.getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => page.locator('#phone-call-text').textContent(), POLL).toMatch(/^In a call with .+ from this browser: connected$/);
    await untilHearing(() => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, caller), 'the caller', [BROWSER_TONE], [], LEVELS);
    await page.getByRole('button', { name: 'Leave' }).click();
    await until(async () => (await t.request('GET', api(t, `/Calls/${caller}.json`))).json<{ status: string }>().status === 'completed', 15_000, 'the caller to hang up after Leave');
  });
});

describe('the console when the microphone is refused', { timeout: TEST_TIMEOUT_MS }, () => {
  let t: TestApp;
  let chromiumRun: { browser: BrowserContext; page: Page; profile: string } | undefined;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    chromiumRun = await launch(DENY_MICROPHONE);
    await signInToConsole(t, chromiumRun.page);
  });
  afterEach(async () => {
    await chromiumRun?.browser.close();
    await t?.close();
  });

  it('says so plainly, and the call it was given leaves the conference', async () => {
    const page = chromiumRun!.page;
    await placeCall(t, `sim:talker;tone=${SIM_TONE}`, `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);
    const room = page.getByRole('region', { name: ROOM });
    await room.waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#phone-state').textContent(), { timeout: 15_000 }).toContain('This browser takes calls');
    await room.getByRole('button', { name: `Join ${ROOM} from this browser` }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Error:' }).textContent(), { timeout: 15_000 }).toContain('this browser did not allow the microphone');
    await expect.poll(() => room.locator('li.participant').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('#phone-call').isHidden()).toBe(true);
    // Listening needs no microphone.
    await room.getByRole('button', { name: `Listen to ${ROOM} from this browser` }).click();
    await expect.poll(() => page.locator('#phone-call-text').textContent(), { timeout: 15_000 }).toBe(`Listening to ${ROOM} from this browser: connected`);
  });
});
