/**
 * Issue 15 §1, "slow clients are cut off, never slowing calls": a client that stops reading
 * its live event stream is closed once what it has not taken passes the per-client buffer
 * (small here, so that a test fills it quickly), while a client that reads gets every event
 * and the calls go on; the slow one, reconnecting with its Last-Event-ID, gets the rest. Also:
 * the keep-alive comment, and shutdown closing open streams.
 */
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { openEventStream, type EventStreamClient } from '../helpers/event-stream.js';
import { openTestStore } from '../helpers/stores.js';
import { apiClient, testConfig, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';

interface LogLine {
  msg: string;
  accountSid?: string;
}

/**
 * A client that stops reading right after its request (a bare TCP socket, paused: Node's HTTP
 * client would go on reading into memory); `readRest` reads what it was sent, to the end.
 */
function openUnreadStream(baseUrl: string, path: string, auth: string): Promise<{ readRest: () => Promise<string> }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Basic ${Buffer.from(auth).toString('base64')}\r\n\r\n`);
      socket.pause();
      const readRest = (): Promise<string> =>
        new Promise((done) => {
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          socket.on('close', () => done(text));
          socket.resume();
        });
      resolve({ readRest });
    });
    socket.on('error', reject);
  });
}

describe('slow clients of the live event stream', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let request: TestApp['request'];
  let baseUrl: string;
  let accountSid: string;
  let auth: string;
  const lines: LogLine[] = [];
  const streams: EventStreamClient[] = [];

  beforeEach(async () => {
    const opened = await openTestStore('sqlite');
    cleanup = opened.cleanup;
    accountSid = newSid('AC');
    const authToken = newAuthToken();
    auth = `${accountSid}:${authToken}`;
    app = await createApp(
      testConfig('sqlite'),
      { accountSid, authToken },
      {
        store: opened.store,
        logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }),
        liveEventStreams: { maxBufferedBytes: 16 * 1024, keepAliveMs: 100 },
      },
    );
    baseUrl = await app.listen();
    request = apiClient(baseUrl, accountSid, authToken);
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await app.close();
    await cleanup();
    lines.length = 0;
  });

  const api = (): string => `/2010-04-01/Accounts/${accountSid}`;

  it('cuts off a client that does not read while calls go on and readers get everything; it resumes with Last-Event-ID', async () => {
    const reader = await openEventStream(baseUrl, accountSid, { auth });
    streams.push(reader);
    const slow = await openUnreadStream(baseUrl, `${api()}/Events`, auth);

    // Long names make large events: the buffers fill sooner.
    const room = 'r'.repeat(128);
    const labels = ['a', 'b'].map((letter) => letter.repeat(128));
    const created = await request('POST', `${api()}/Conferences/${room}/Participants.json`, { form: { From: '+15005550006', To: 'sim:alice', Label: labels[0]! } });
    expect(created.status, created.body).toBe(201);
    const cf = created.json<{ conference_sid: string }>().conference_sid;
    await request('POST', `${api()}/Conferences/${cf}/Participants.json`, { form: { From: '+15005550006', To: 'sim:bob', Label: labels[1]! } });
    await reader.next((e) => e.data.StatusCallbackEvent === 'conference-start', 'the conference starting');

    // Mutes, holds and their undoing, as fast as the API takes them, until the slow client is cut off.
    const cutOffLine = (): LogLine | undefined => lines.find((l) => l.msg.startsWith('closed a live event stream whose client did not keep up'));
    const cutOff = (): boolean => cutOffLine() !== undefined;
    let toggles = 0;
    while (!cutOff() && toggles < 4000) {
      await Promise.all(
        labels.map(async (label) => {
          await request('POST', `${api()}/Conferences/${cf}/Participants/${label}.json`, { form: { Muted: 'true', Hold: 'true' } });
          await request('POST', `${api()}/Conferences/${cf}/Participants/${label}.json`, { form: { Muted: 'false', Hold: 'false' } });
        }),
      );
      toggles += 2 * labels.length;
    }
    expect(cutOff()).toBe(true);
    expect(cutOffLine()?.accountSid).toBe(accountSid);

    // The calls went on, and the reader got every change.
    const participants = await request('GET', `${api()}/Conferences/${cf}/Participants.json`);
    expect(participants.json<{ participants: { status: string }[] }>().participants.map((p) => p.status)).toEqual(['connected', 'connected']);
    await until(() => reader.events.filter((e) => /participant-(un)?mute/.test(e.data.StatusCallbackEvent ?? '')).length === toggles, 10_000, 'every mute and unmute on the reading stream');
    expect(reader.comments).toContain('keep-alive');

    // The slow client, reading again, finds its stream ended; it reconnects with the last id it has.
    const text = await slow.readRest();
    expect(text).toMatch(/^HTTP\/1.1 200/);
    // Cut off: never the last chunk of a response that ended cleanly.
    expect(text.endsWith('\r\n0\r\n\r\n')).toBe(false);
    const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
    // Only whole events count: the cut may fall in the middle of the last one.
    const lastId = [...text.slice(0, text.lastIndexOf('\n\n')).matchAll(/^id: (.+)$/gm)].map((m) => m[1]!).at(-1)!;
    expect(ids.length).toBeLessThan(reader.events.length);
    const resumed = await openEventStream(baseUrl, accountSid, { auth, lastEventId: lastId });
    streams.push(resumed);
    const readerIds = reader.events.map((e) => e.id);
    const expected = readerIds.slice(readerIds.indexOf(lastId) + 1);
    await until(() => resumed.events.length >= expected.length, 10_000, () => `the events the slow client missed: ${expected.length} after ${lastId} (${ids.length} ids seen, reader ${readerIds.length}); got ${resumed.events.length}: ${JSON.stringify(resumed.events.slice(0, 2))}, text ${text.length}`);
    expect(resumed.events.map((e) => e.id)).toEqual(expected);
    expect(resumed.events.some((e) => e.event === 'reset')).toBe(false);
  }, 60_000);

  it('closes open streams on shutdown', async () => {
    const stream = await openEventStream(baseUrl, accountSid, { auth });
    streams.push(stream);
    await until(() => stream.comments.includes('keep-alive'), 5000, 'a keep-alive');
    expect(await app.close()).toBe(true);
    await until(() => stream.ended, 5000, 'the stream ended by the shutdown');
  });
});
