/**
 * The web console (issue 15 §2) driven by Playwright in a real headless Chromium (Debian's
 * `chromium`, installed by scripts/test-packages.sh) against a real Conclave: sign in, start two
 * simulated callers into a conference from "Try it with no phone", see the conference appear with
 * the talker's speaking indicator lit (the live event stream's `participant-speech-start`), mute
 * the talker with its button and see the API say muted and the listener's recording lose the
 * tone, kick the listener, end the conference, sign out. The credentials never appear in a URL
 * the page requests, and are gone from the tab's storage after signing out.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simulatedAudio, untilHearing } from '../helpers/hearing.js';
import { SipPhone } from '../helpers/sip-phone.js';
import { ownNumber, placeCall, startTestApp, type TestApp } from '../helpers/test-app.js';
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/until.js';

/** As /work/.library/env/machines/node-svc.md starts Debian's Chromium on a closed network. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TALKER = 'sim:talker;tone=440';
const LISTENER = 'sim:listener;record';
const ROOM = 'console-room';
const LEVELS = { heard: 2000, silent: 300 };
const NUMBER = '+15005550178';
/** Waits of the page on a loaded machine (the whole suite beside it): Chromium, the app and SIP share two cores. */
const POLL = { timeout: 10_000 };
const CONSOLE_TEST_TIMEOUT_MS = 60_000;

/** Debian's Chromium on a fresh profile, driven by Playwright; `requested` collects every URL the page asks for. */
interface Console {
  browser: BrowserContext;
  page: Page;
  profile: string;
  requested: string[];
}

/** Opens the console at `hash` and signs in, with the AuthToken or with an API key. */
async function openConsole(t: TestApp, hash = '', key?: { sid: string; secret: string }, prepare?: (browser: BrowserContext) => Promise<void>): Promise<Console> {
  const profile = await mkdtemp(join(tmpdir(), 'conclave-console-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
  await prepare?.(browser);
  const page = browser.pages()[0] ?? (await browser.newPage());
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${t.baseUrl}/console${hash}`);
  // Signed out, the page offers only the sign-in form.
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  expect(await page.getByRole('navigation').count()).toBe(0);
  await page.getByLabel('Account SID').fill(t.accountSid);
  if (key) await page.getByLabel('API key SID').fill(key.sid);
  await page.getByLabel('Auth token or API key secret').fill(key ? key.secret : t.authToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Conferences' }).waitFor();
  return { browser, page, profile, requested };
}

async function closeConsole(c: Console | undefined): Promise<void> {
  if (!c) return;
  await c.browser.close();
  await rm(c.profile, { recursive: true, force: true });
}

describe('the web console', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  let t: TestApp;
  let c: Console | undefined;
  let page: Page;

  beforeEach(async () => {
    t = await startTestApp('sqlite');
    c = await openConsole(t);
    page = c.page;
  });
  afterEach(async () => {
    await closeConsole(c);
    await t?.close();
  });

  const api = (path: string): string => `/2010-04-01/Accounts/${t.accountSid}${path}`;

  /** The CallSid of the call the console placed to `to`. */
  async function callTo(to: string): Promise<string> {
    const calls = (await t.request('GET', api(`/Calls.json?To=${encodeURIComponent(to)}`))).json<{ calls: { sid: string }[] }>().calls;
    expect(calls).toHaveLength(1);
    return calls[0]!.sid;
  }

  async function startSimCall(name: string, voice: 'tone' | 'silent', record: boolean): Promise<void> {
    await page.getByRole('link', { name: 'Try it with no phone' }).click();
    await page.getByLabel('Endpoint name').fill(name);
    if (voice === 'tone') {
      await page.getByRole('radio', { name: 'a tone of' }).check();
      await page.getByLabel('Tone frequency in hertz').fill('440');
    } else {
      await page.getByRole('radio', { name: 'nothing' }).check();
    }
    await page.getByLabel('Record what it hears').setChecked(record);
    await page.getByLabel('Conference name').fill(ROOM);
    await page.getByRole('button', { name: 'Start the call' }).click();
    await expect.poll(() => page.locator('#try-result').textContent(), POLL).toContain(`joining ${ROOM}`);
  }

  it('signs in, shows a live conference of two sim callers with the talker speaking, mutes, kicks and ends it through the API', async () => {
    await startSimCall('talker', 'tone', false);
    await startSimCall('listener', 'silent', true);
    const talker = await callTo(TALKER);
    const listener = await callTo(LISTENER);

    await page.getByRole('link', { name: 'Conferences' }).click();
    const room = page.getByRole('region', { name: ROOM });
    await room.waitFor();
    const talkerRow = room.locator(`li[data-call-sid="${talker}"]`);
    const listenerRow = room.locator(`li[data-call-sid="${listener}"]`);
    await expect.poll(() => room.locator('li.participant').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => talkerRow.locator('.speaking').getAttribute('data-speaking'), { timeout: 10_000 }).toBe('true');
    expect(await listenerRow.locator('.speaking').getAttribute('data-speaking')).toBe('false');
    const heard = (): Promise<Int16Array> => simulatedAudio(t.baseUrl, t.accountSid, t.authToken, listener);
    await untilHearing(heard, 'the listener', [440], [], LEVELS);

    // By keyboard, as a user without a mouse would.
    await room.getByRole('button', { name: `Mute ${TALKER}` }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => room.getByRole('button', { name: `Unmute ${TALKER}` }).getAttribute('aria-pressed'), POLL).toBe('true');
    const state = await t.request('GET', api(`/Conferences/${await conferenceSid()}/Participants/${talker}.json`));
    expect(state.json<{ muted: boolean }>().muted).toBe(true);
    await untilHearing(heard, 'the listener', [], [440], LEVELS);
    // A muted leg stops talking at once, and the page says so.
    await expect.poll(() => talkerRow.locator('.speaking').getAttribute('data-speaking'), POLL).toBe('false');

    await room.getByLabel(`Whom ${LISTENER} coaches`).selectOption({ label: TALKER });
    await room.getByRole('button', { name: `Coach with ${LISTENER}` }).click();
    await expect.poll(() => listenerRow.locator('.flags').textContent(), POLL).toBe(`coaching ${TALKER}`);
    const coaching = (await t.request('GET', api(`/Conferences/${await conferenceSid()}/Participants/${listener}.json`))).json<{ coaching: boolean; call_sid_to_coach: string }>();
    expect(coaching).toMatchObject({ coaching: true, call_sid_to_coach: talker });

    await room.getByRole('button', { name: `Kick ${LISTENER}` }).click();
    await expect.poll(() => room.locator('li.participant').count(), POLL).toBe(1);
    const left = await t.request('GET', api(`/Conferences/${await conferenceSid()}/Participants.json`));
    expect(left.json<{ participants: { call_sid: string }[] }>().participants.map((p) => p.call_sid)).toEqual([talker]);

    const sid = await conferenceSid();
    await room.getByRole('button', { name: `End conference ${ROOM}` }).click();
    await room.waitFor({ state: 'detached' });
    expect((await t.request('GET', api(`/Conferences/${sid}.json`))).json<{ status: string }>().status).toBe('completed');
    await expect.poll(() => page.getByText('No conference is in progress.').isVisible(), POLL).toBe(true);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(c!.requested.length).toBeGreaterThan(5);
    for (const url of c!.requested) expect(url).not.toContain(t.authToken);
  });

  async function conferenceSid(): Promise<string> {
    return until(async () => {
      const list = (await t.request('GET', api(`/Conferences.json?FriendlyName=${ROOM}`))).json<{ conferences: { sid: string }[] }>().conferences;
      return list[0]?.sid;
    }, 5000, `conference ${ROOM}`);
  }
});

describe('the console without the live event stream', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  let t: TestApp;
  let c: Console | undefined;
  beforeEach(async () => {
    t = await startTestApp('sqlite');
  });
  afterEach(async () => {
    await closeConsole(c);
    await t?.close();
  });

  it('says so and polls the REST API instead: a conference still appears and its buttons still work', async () => {
    c = await openConsole(t, '', undefined, async (context) => {
      await context.route('**/Events', (route) => route.fulfill({ status: 404, body: '' }));
    });
    const page = c.page;
    await expect.poll(() => page.locator('#stream-state').textContent(), POLL).toContain('not offered');
    const callSid = await placeCall(t, 'sim:poller;tone=300', `<Response><Dial><Conference>${ROOM}</Conference></Dial></Response>`);
    const room = page.getByRole('region', { name: ROOM });
    await room.locator(`li[data-call-sid="${callSid}"]`).waitFor({ timeout: 10_000 });
    await room.getByRole('button', { name: 'Mute sim:poller;tone=300' }).click();
    await expect.poll(() => room.locator(`li[data-call-sid="${callSid}"] .flags`).textContent(), POLL).toBe('muted');
  });
});

describe('a SIP call in the console', { timeout: CONSOLE_TEST_TIMEOUT_MS }, () => {
  let t: TestApp;
  let web: Receiver;
  let phone: SipPhone;
  let c: Console | undefined;

  beforeEach(async () => {
    t = await startTestApp('sqlite', { sip: true });
    web = await startReceiver((_r, response) => answer(response, 200, 'text/xml', '<Response><Pause length="1"/><Hangup/></Response>'));
    await ownNumber(t, NUMBER, `${web.baseUrl}/voice`);
    phone = await SipPhone.open('caller', null);
    const key = (await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Keys.json`, { form: { FriendlyName: 'console' } })).json<{ sid: string; secret: string }>();
    c = await openConsole(t, '#calls', key);
  });
  afterEach(async () => {
    await closeConsole(c);
    await phone?.close();
    await t?.close();
    await web?.close();
  });

  it('signed in with an API key: appears in the calls list as it happens; its page shows the timeline and the SIP ladder', async () => {
    const page = c!.page;
    await phone.dial(`sip:${NUMBER}@127.0.0.1:${t.app.sipAddress()!.port}`);
    const row = page.locator('#call-rows tr').first();
    await row.waitFor();
    const callSid = (await row.getAttribute('data-call-sid'))!;
    await phone.ended();
    await expect.poll(() => row.locator('td').nth(3).textContent(), POLL).toBe('completed');

    await row.getByRole('link', { name: callSid }).click();
    await page.getByRole('heading', { name: `Call ${callSid}` }).waitFor();
    const ladder = page.locator('#sip-ladder li.sip');
    await expect.poll(() => ladder.count(), POLL).toBe(7);
    const arrows = await ladder.evaluateAll((rows) => rows.map((li) => `${li.className.replace('sip ', '')} ${li.querySelector('.sip-line')?.textContent?.replace(/ sip:\S+/, '')}`));
    expect(arrows).toEqual(['sip-in INVITE SIP/2.0', 'sip-out SIP/2.0 100 Trying', 'sip-out SIP/2.0 180 Ringing', 'sip-out SIP/2.0 200 OK', 'sip-in ACK SIP/2.0', 'sip-out BYE SIP/2.0', 'sip-in SIP/2.0 200 OK']);
    // The stream's progress of the call, seen while the page was open, is in its timeline.
    await expect.poll(() => page.locator('#call-timeline').textContent(), POLL).toContain('call completed');
    // The server's timeline of the call: its TwiML request, answered 200, with its duration.
    expect(await page.locator('#call-timeline li.webhook-ok').first().textContent()).toMatch(new RegExp(`twiml POST ${web.baseUrl}/voice → HTTP 200 in \\d+ ms$`));
  });
});

describe('the console files', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp('sqlite');
  });
  afterEach(async () => {
    await t.close();
  });

  it('are served without credentials, with a policy that keeps scripts and requests to this origin; nothing else is under /console', async () => {
    const page = await fetch(`${t.baseUrl}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    for (const file of ['app.js', 'api.js', 'event-stream.js', 'views.js', 'console.css']) {
      expect((await fetch(`${t.baseUrl}/console/${file}`)).status, file).toBe(200);
    }
    for (const path of ['/console/nothing.js', '/console/..%2F..%2Fpackage.json', '/console/%2E%2E%2Fapi.js']) {
      expect((await fetch(`${t.baseUrl}${path}`)).status, path).toBe(404);
    }
    // The API itself still asks for credentials.
    expect((await fetch(`${t.baseUrl}/2010-04-01/Accounts/${t.accountSid}/Conferences.json`)).status).toBe(401);
  });
});
