/**
 * The Recording resources over HTTP (issue 13), on both stores: every schema key of the
 * account's, a call's and a conference's recordings (twilio-oai), the account list's filters
 * and paging, what a call or a conference shows of the account's recordings, the media as WAV
 * and MP3 (only once completed, and only with credentials), deleting (the media goes too; a
 * live recording is refused), the 400s of bad parameters, and XML.
 *
 * Rows go in through the store and audio through the real file storage (the live recording
 * flows are tested with the recorder); the API is a real HTTP server on the app's services.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/domain/call.js';
import type { Conference } from '../../src/domain/model.js';
import type { Recording } from '../../src/domain/recording.js';
import { newSid } from '../../src/domain/sids.js';
import { FileRecordingStorage } from '../../src/endpoints/recordings/file-recording-storage.js';
import { buildHttpServer } from '../../src/http/server.js';
import type { RecordingServiceContext } from '../../src/services/recordings/recording-service-context.js';
import { aCall as queuedCall, aConference, aRecording as recordingOf } from '../helpers/fixtures.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { apiClient, startTestApp, type TestApp } from '../helpers/test-app.js';
import { restException, twilioClient } from '../helpers/twilio-client.js';
import { schemaKeys } from '../helpers/twilio-schema.js';

const T0 = Date.UTC(2025, 5, 15, 12, 0, 0);
const DAY = 86_400_000;

interface RecordingsApp extends TestApp {
  storage: FileRecordingStorage;
  dir: string;
}

/**
 * A test app whose API serves recordings from a FileRecordingStorage in a new directory: the
 * app's own services, with that storage, behind a second HTTP server built the way app.ts builds
 * its own.
 */
async function startRecordingsApp(kind: (typeof STORE_KINDS)[number]): Promise<RecordingsApp> {
  const t = await startTestApp(kind);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-recordings-'));
  const storage = new FileRecordingStorage(dir);
  const ctx = { ...t.app.services, recordingStorage: storage } as RecordingServiceContext;
  const http: FastifyInstance = buildHttpServer(ctx, pino({ level: 'silent' }));
  const baseUrl = await http.listen({ host: '127.0.0.1', port: 0 });
  return {
    ...t,
    baseUrl,
    storage,
    dir,
    request: apiClient(baseUrl, t.accountSid, t.authToken),
    async close() {
      await http.close();
      await storage.close();
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}



/** One second of a 440 Hz tone, written as a finished recording's WAV; resolves with the file's bytes. */
async function keepAudio(storage: FileRecordingStorage, sid: string): Promise<Buffer> {
  const sink = await storage.create(sid, 1);
  const pcm = new Int16Array(8000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  sink.append(pcm);
  await sink.finish({ trim: false });
  return fs.readFileSync(path.join(storage.dir, `${sid}.wav`));
}

const aRecording = (accountSid: string, over: Partial<Recording> = {}): Recording => recordingOf(accountSid, { duration: 1, dateUpdated: T0 + 2000, ...over }, T0);
const aCall = (accountSid: string): Call =>
  queuedCall(accountSid, { status: 'completed', startTime: T0, endTime: T0 + 5000, duration: 5, url: null, twiml: '<Response/>', statusCallback: null, statusCallbackEvents: [] }, T0);

describe.each(STORE_KINDS)('Recordings over HTTP on %s', (kind) => {
  let t: RecordingsApp;
  let account: string;
  let call: Call;
  let conference: Conference;
  /** The conference's mix, a recording of the call in that conference, and one of the call alone. */
  let mix: Recording;
  let leg: Recording;
  let alone: Recording;
  let wav: Buffer;

  beforeAll(async () => {
    t = await startRecordingsApp(kind);
    account = `/2010-04-01/Accounts/${t.accountSid}`;
    call = aCall(t.accountSid);
    await t.app.store.insertCall(call);
    conference = aConference({ accountSid: t.accountSid, status: 'completed' }, T0);
    await t.app.store.insertConference(conference);
    mix = aRecording(t.accountSid, { callSid: null, conferenceSid: conference.sid, source: 'Conference', dateCreated: T0 });
    leg = aRecording(t.accountSid, { callSid: call.sid, conferenceSid: conference.sid, source: 'OutboundAPI', channels: 2, track: 'inbound', dateCreated: T0 + DAY });
    alone = aRecording(t.accountSid, { callSid: call.sid, dateCreated: T0 + 2 * DAY });
    for (const r of [mix, leg, alone]) await t.app.store.insertRecording(r);
    wav = await keepAudio(t.storage, alone.sid);
  });
  afterAll(async () => t?.close());

  const sids = (body: { recordings: Array<{ sid: string }> }): string[] => body.recordings.map((r) => r.sid);

  describe('representations', () => {
    it("an account recording has every key of Twilio's schema, in its order, with Twilio's types", async () => {
      const res = await t.request('GET', `${account}/Recordings/${alone.sid}.json`);
      expect(res.status).toBe(200);
      const body = res.json();
      // schemaErrors cannot compile these schemas (ajv: `encryption_details` is nullable without a type): keys and values instead.
      expect(Object.keys(body)).toEqual(schemaKeys('api.v2010.account.recording'));
      expect(body).toMatchObject({
        sid: alone.sid,
        call_sid: call.sid,
        conference_sid: null,
        api_version: '2010-04-01',
        date_created: 'Tue, 17 Jun 2025 12:00:00 +0000',
        date_updated: 'Sun, 15 Jun 2025 12:00:02 +0000',
        start_time: 'Sun, 15 Jun 2025 12:00:00 +0000',
        duration: '1',
        channels: 1,
        status: 'completed',
        source: 'StartCallRecordingAPI',
        price: null,
        price_unit: 'USD',
        error_code: null,
        encryption_details: null,
        uri: `${account}/Recordings/${alone.sid}.json`,
        subresource_uris: {
          add_on_results: `${account}/Recordings/${alone.sid}/AddOnResults.json`,
          transcriptions: `${account}/Recordings/${alone.sid}/Transcriptions.json`,
        },
        media_url: `${t.baseUrl}${account}/Recordings/${alone.sid}`,
      });
    });

    it("a call's recording has the call recording schema's keys, with its track", async () => {
      const res = await t.request('GET', `${account}/Calls/${call.sid}/Recordings/${leg.sid}.json`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(Object.keys(body)).toEqual(schemaKeys('api.v2010.account.call.call_recording'));
      expect(body).toMatchObject({ sid: leg.sid, channels: 2, track: 'inbound', conference_sid: conference.sid, uri: `${account}/Calls/${call.sid}/Recordings/${leg.sid}.json` });
    });

    it("a conference's recording has the conference recording schema's keys", async () => {
      const res = await t.request('GET', `${account}/Conferences/${conference.sid}/Recordings/${mix.sid}.json`);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(Object.keys(body)).toEqual(schemaKeys('api.v2010.account.conference.conference_recording'));
      expect(body).toMatchObject({ sid: mix.sid, call_sid: null, source: 'Conference', uri: `${account}/Conferences/${conference.sid}/Recordings/${mix.sid}.json` });
    });

    it('a recording not completed yet has no duration; one that ended absent says why', async () => {
      const live = aRecording(t.accountSid, { status: 'paused', duration: null });
      const absent = aRecording(t.accountSid, { status: 'absent', duration: 0, errorCode: 16101 });
      await t.app.store.insertRecording(live);
      await t.app.store.insertRecording(absent);
      expect((await t.request('GET', `${account}/Recordings/${live.sid}.json`)).json()).toMatchObject({ status: 'paused', duration: null, error_code: null });
      const body = (await t.request('GET', `${account}/Recordings/${absent.sid}.json`)).json();
      expect(body).toMatchObject({ status: 'absent', duration: null, error_code: 16101 });
      await t.app.store.deleteRecording(live.sid);
      await t.app.store.deleteRecording(absent.sid);
    });

    it('XML: the instance with .xml, the list, and errors, in Twilio documents', async () => {
      const one = await t.request('GET', `${account}/Recordings/${alone.sid}.xml`);
      expect(one.status).toBe(200);
      expect(one.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(one.body).toMatch(new RegExp(`^<TwilioResponse>\\s*<Recording>\\s*<AccountSid>${t.accountSid}</AccountSid>`));
      expect(one.body).toContain('<Duration>1</Duration>');
      expect(one.body).toContain(`<MediaUrl>${t.baseUrl}${account}/Recordings/${alone.sid}</MediaUrl>`);
      expect(one.body).toMatch(new RegExp(`<SubresourceUris>\\s*<AddOnResults>${account}/Recordings/${alone.sid}/AddOnResults</AddOnResults>`));

      const list = await t.request('GET', `${account}/Conferences/${conference.sid}/Recordings`);
      expect(list.status).toBe(200);
      expect(list.body).toMatch(/<Recordings page="0" numpages="1" pagesize="50" total="1"/);
      expect(list.body).toContain(`<Sid>${mix.sid}</Sid>`);

      const missing = await t.request('GET', `${account}/Recordings/${newSid('RE')}.xml`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatch(/<RestException>\s*<Code>20404<\/Code>/);
    });

    it('CSV: one row per recording, without the nested subresource_uris', async () => {
      const res = await t.request('GET', `${account}/Recordings.csv?CallSid=${call.sid}`);
      expect(res.status).toBe(200);
      const [header, ...rows] = res.body.trim().split('\n');
      expect(header).toContain('MediaUrl');
      expect(header).not.toContain('SubresourceUris');
      expect(rows).toHaveLength(2);
    });
  });

  describe('lists', () => {
    it('the account lists its recordings newest first, by call, by conference and by creation day', async () => {
      const list = async (query: string) => {
        const res = await t.request('GET', `${account}/Recordings.json${query}`);
        expect(res.status, res.body).toBe(200);
        return sids(res.json());
      };
      expect(await list('')).toEqual([alone.sid, leg.sid, mix.sid]);
      expect(await list(`?CallSid=${call.sid}`)).toEqual([alone.sid, leg.sid]);
      expect(await list(`?ConferenceSid=${conference.sid}`)).toEqual([leg.sid, mix.sid]);
      expect(await list('?DateCreated=2025-06-16')).toEqual([leg.sid]);
      expect(await list(`?${encodeURIComponent('DateCreated<')}=2025-06-16`)).toEqual([leg.sid, mix.sid]);
      expect(await list(`?${encodeURIComponent('DateCreated>')}=2025-06-16`)).toEqual([alone.sid, leg.sid]);
      expect(await list(`?CallSid=${newSid('CA')}`)).toEqual([]);
      // ISO 8601 instants, as twilio-node sends dateCreatedBefore / After (ListRecording's `format: date-time`).
      expect(await list(`?${encodeURIComponent('DateCreated<')}=2025-06-16T12:00:00Z`)).toEqual([leg.sid, mix.sid]);
      expect(await list(`?${encodeURIComponent('DateCreated<')}=2025-06-16T11:59:59Z`)).toEqual([mix.sid]);
      expect(await list(`?${encodeURIComponent('DateCreated>')}=2025-06-16T12:00:01%2B00:00`)).toEqual([alone.sid]);
      expect(await list('?DateCreated=2025-06-17T08:00:00Z')).toEqual([alone.sid]);
    });

    it('pages, keeping the filter in the page links', async () => {
      const first = await t.request('GET', `${account}/Recordings.json?ConferenceSid=${conference.sid}&PageSize=1`);
      const page = first.json<{ recordings: Array<{ sid: string }>; next_page_uri: string; previous_page_uri: string | null }>();
      expect(sids(page)).toEqual([leg.sid]);
      expect(page.previous_page_uri).toBeNull();
      expect(page.next_page_uri).toContain(`ConferenceSid=${conference.sid}`);
      const next = (await t.request('GET', page.next_page_uri)).json<{ recordings: Array<{ sid: string }>; next_page_uri: string | null }>();
      expect(sids(next)).toEqual([mix.sid]);
      expect(next.next_page_uri).toBeNull();
    });

    it("a call lists its own recordings; a conference only its own mix", async () => {
      const ofCall = await t.request('GET', `${account}/Calls/${call.sid}/Recordings.json`);
      expect(ofCall.status).toBe(200);
      expect(sids(ofCall.json())).toEqual([alone.sid, leg.sid]);
      expect(ofCall.json<{ recordings: Array<{ track: string }> }>().recordings[0]).toHaveProperty('track', 'both');
      const ofConference = await t.request('GET', `${account}/Conferences/${conference.sid}/Recordings.json`);
      expect(sids(ofConference.json())).toEqual([mix.sid]);
      const onDay = await t.request('GET', `${account}/Calls/${call.sid}/Recordings.json?DateCreated=2025-06-17`);
      expect(sids(onDay.json())).toEqual([alone.sid]);
    });

    it('a recording is not found through a call or conference it is not of', async () => {
      expect((await t.request('GET', `${account}/Calls/${call.sid}/Recordings/${mix.sid}.json`)).status).toBe(404);
      expect((await t.request('GET', `${account}/Conferences/${conference.sid}/Recordings/${leg.sid}.json`)).status).toBe(404);
      expect((await t.request('GET', `${account}/Calls/${newSid('CA')}/Recordings/${alone.sid}.json`)).status).toBe(404);
    });

    it('404 for the lists of an unknown call or conference, and for another account', async () => {
      const unknownCall = await t.request('GET', `${account}/Calls/${newSid('CA')}/Recordings.json`);
      expect(unknownCall.status).toBe(404);
      expect(unknownCall.json()).toMatchObject({ code: 20404 });
      expect((await t.request('GET', `${account}/Conferences/${newSid('CF')}/Recordings.json`)).status).toBe(404);

      const sub = await t.request('POST', '/2010-04-01/Accounts.json', { form: { FriendlyName: 'sub' } });
      const other = sub.json<{ sid: string; auth_token: string }>();
      const asOther = apiClient(t.baseUrl, other.sid, other.auth_token);
      expect((await asOther('GET', `/2010-04-01/Accounts/${other.sid}/Recordings/${alone.sid}.json`)).status).toBe(404);
      expect(sids((await asOther('GET', `/2010-04-01/Accounts/${other.sid}/Recordings.json`)).json())).toEqual([]);
    });

    it('400 for filters Twilio would refuse', async () => {
      for (const query of ['CallSid=CA123', `ConferenceSid=${call.sid}`, 'DateCreated=2025-13-01', 'DateCreated=2025-06-16T25:00:00Z', 'DateCreated=2025-06-16T12:00', 'PageSize=0', 'PageToken=nope']) {
        const res = await t.request('GET', `${account}/Recordings.json?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.json(), query).toMatchObject({ code: 20001, status: 400 });
      }
    });
  });

  describe('media', () => {
    it('is the WAV with no extension and with .wav, and an MP3 with .mp3', async () => {
      for (const suffix of ['', '.wav']) {
        const res = await fetch(`${t.baseUrl}${account}/Recordings/${alone.sid}${suffix}`, { headers: { authorization: basic(t) } });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('audio/x-wav');
        const got = Buffer.from(await res.arrayBuffer());
        expect(got.length).toBe(wav.length);
        expect(got.equals(wav)).toBe(true);
      }
      const mp3 = await fetch(`${t.baseUrl}${account}/Recordings/${alone.sid}.mp3`, { headers: { authorization: basic(t) } });
      expect(mp3.status).toBe(200);
      expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
      const bytes = Buffer.from(await mp3.arrayBuffer());
      // An ID3 tag or an MPEG audio frame sync (11 bits set).
      expect(bytes.subarray(0, 3).toString('latin1') === 'ID3' || (bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0)).toBe(true);
    });

    it('asks for the API credentials, as Twilio does for accounts that enforce HTTP auth on media (all since July 2023)', async () => {
      const res = await fetch(`${t.baseUrl}${account}/Recordings/${alone.sid}.wav`);
      expect(res.status).toBe(401);
    });

    it('404 / 20404 until the recording completed, when it ended absent, and when there is none', async () => {
      const live = aRecording(t.accountSid, { status: 'in-progress', duration: null });
      const absent = aRecording(t.accountSid, { status: 'absent', duration: 0, errorCode: 16101 });
      await t.app.store.insertRecording(live);
      await t.app.store.insertRecording(absent);
      await keepAudio(t.storage, live.sid);
      for (const sid of [live.sid, absent.sid, mix.sid, newSid('RE'), 'Twilio.CURRENT']) {
        for (const suffix of ['', '.wav', '.mp3']) {
          const res = await t.request('GET', `${account}/Recordings/${sid}${suffix}`);
          expect(res.status, `${sid}${suffix}`).toBe(404);
          expect(res.body).toContain('<Code>20404</Code>');
        }
      }
      await t.app.store.deleteRecording(live.sid);
      await t.app.store.deleteRecording(absent.sid);
    });
  });

  describe('delete', () => {
    it('204; the recording and its media are gone', async () => {
      const r = aRecording(t.accountSid);
      await t.app.store.insertRecording(r);
      await keepAudio(t.storage, r.sid);
      const res = await t.request('DELETE', `${account}/Recordings/${r.sid}.json`);
      expect(res.status).toBe(204);
      expect(res.body).toBe('');
      expect((await t.request('GET', `${account}/Recordings/${r.sid}.json`)).status).toBe(404);
      expect((await t.request('GET', `${account}/Recordings/${r.sid}`)).status).toBe(404);
      expect(fs.readdirSync(t.dir).filter((name) => name.startsWith(r.sid))).toEqual([]);
      expect((await t.request('DELETE', `${account}/Recordings/${r.sid}.json`)).status).toBe(404);
    });

    it("through a call or a conference, only that call's or conference's", async () => {
      const ofCall = aRecording(t.accountSid, { callSid: call.sid });
      const ofConference = aRecording(t.accountSid, { callSid: null, conferenceSid: conference.sid, source: 'Conference' });
      await t.app.store.insertRecording(ofCall);
      await t.app.store.insertRecording(ofConference);
      expect((await t.request('DELETE', `${account}/Conferences/${conference.sid}/Recordings/${ofCall.sid}.json`)).status).toBe(404);
      expect((await t.request('DELETE', `${account}/Calls/${call.sid}/Recordings/${ofConference.sid}.json`)).status).toBe(404);
      expect((await t.request('DELETE', `${account}/Calls/${call.sid}/Recordings/${ofCall.sid}.json`)).status).toBe(204);
      expect((await t.request('DELETE', `${account}/Conferences/${conference.sid}/Recordings/${ofConference.sid}.json`)).status).toBe(204);
      expect(await t.app.store.findRecording(ofCall.sid)).toBeUndefined();
      expect(await t.app.store.findRecording(ofConference.sid)).toBeUndefined();
    });

    it('refuses a recording still being made: 400 / 21220, stop it first', async () => {
      for (const status of ['in-progress', 'paused', 'stopped', 'processing'] as const) {
        const r = aRecording(t.accountSid, { status, duration: null });
        await t.app.store.insertRecording(r);
        const res = await t.request('DELETE', `${account}/Recordings/${r.sid}.json`);
        expect(res.status, status).toBe(400);
        expect(res.json()).toMatchObject({ code: 21220 });
        expect(res.json<{ message: string }>().message).toContain('Status=stopped');
        expect(await t.app.store.findRecording(r.sid)).toBeDefined();
        await t.app.store.deleteRecording(r.sid);
      }
    });
  });

  describe('parameters of start and update', () => {
    it('400 for values Twilio does not take, before anything starts', async () => {
      const starts: Array<Record<string, string>> = [
        { Trim: 'trim' },
        { RecordingChannels: 'stereo' },
        { RecordingTrack: 'sideways' },
        { RecordingStatusCallbackEvent: 'completed failed' },
        { RecordingStatusCallback: 'not a url' },
        { RecordingStatusCallback: 'http://127.0.0.1:9/cb', RecordingStatusCallbackMethod: 'PUT' },
      ];
      for (const form of starts) {
        const res = await t.request('POST', `${account}/Calls/${call.sid}/Recordings.json`, { form });
        expect(res.status, JSON.stringify(form)).toBe(400);
        expect(res.json()).toMatchObject({ code: 20001 });
      }
      const updates: Array<Record<string, string>> = [{}, { Status: 'completed' }, { Status: 'absent' }, { Status: 'paused', PauseBehavior: 'mute' }];
      for (const path of [`Calls/${call.sid}`, `Conferences/${conference.sid}`]) {
        for (const form of updates) {
          const res = await t.request('POST', `${account}/${path}/Recordings/Twilio.CURRENT.json`, { form });
          expect(res.status, `${path} ${JSON.stringify(form)}`).toBe(400);
          expect(res.json()).toMatchObject({ code: 20001 });
        }
      }
    });

    it('404 for an update of something that is no recording SID', async () => {
      const res = await t.request('POST', `${account}/Calls/${call.sid}/Recordings/current.json`, { form: { Status: 'paused' } });
      expect(res.status).toBe(404);
    });

    it('405 for methods a resource does not have', async () => {
      expect((await t.request('POST', `${account}/Recordings/${alone.sid}.json`, { form: { Status: 'paused' } })).status).toBe(405);
      expect((await t.request('DELETE', `${account}/Conferences/${conference.sid}/Recordings.json`)).status).toBe(405);
      expect((await t.request('POST', `${account}/Recordings.json`)).status).toBe(405);
    });
  });
});

describe('Recordings with the official twilio library', () => {
  let t: RecordingsApp;

  beforeAll(async () => {
    t = await startRecordingsApp('sqlite');
  });
  afterAll(async () => t?.close());

  it('lists, fetches and deletes recordings of the account, a call and a conference', async () => {
    const client = twilioClient(t);
    const call = aCall(t.accountSid);
    await t.app.store.insertCall(call);
    const conference = aConference({ accountSid: t.accountSid, status: 'completed' }, T0);
    await t.app.store.insertConference(conference);
    const mix = aRecording(t.accountSid, { callSid: null, conferenceSid: conference.sid, source: 'Conference', duration: 42, channels: 1 });
    const ofCall = aRecording(t.accountSid, { callSid: call.sid, channels: 2, track: 'outbound', dateCreated: T0 + DAY });
    await t.app.store.insertRecording(mix);
    await t.app.store.insertRecording(ofCall);

    const all = await client.recordings.list();
    expect(all.map((r) => r.sid)).toEqual([ofCall.sid, mix.sid]);
    const fetched = await client.recordings(mix.sid).fetch();
    expect(fetched).toMatchObject({ sid: mix.sid, conferenceSid: conference.sid, callSid: null, duration: '42', channels: 1, status: 'completed', source: 'Conference', priceUnit: 'USD', errorCode: null });
    expect(fetched.startTime).toEqual(new Date(T0));
    expect(fetched.mediaUrl).toBe(`${t.baseUrl}/2010-04-01/Accounts/${t.accountSid}/Recordings/${mix.sid}`);

    expect((await client.recordings.list({ callSid: call.sid })).map((r) => r.sid)).toEqual([ofCall.sid]);
    expect((await client.recordings.list({ dateCreatedBefore: new Date(T0 + DAY / 2) })).map((r) => r.sid)).toEqual([mix.sid]);
    const callRecordings = await client.calls(call.sid).recordings.list();
    expect(callRecordings.map((r) => [r.sid, r.track, r.channels])).toEqual([[ofCall.sid, 'outbound', 2]]);
    expect((await client.conferences(conference.sid).recordings.list()).map((r) => r.sid)).toEqual([mix.sid]);
    expect((await client.conferences(conference.sid).recordings(mix.sid).fetch()).sid).toBe(mix.sid);

    expect(await client.recordings(mix.sid).remove()).toBe(true);
    expect(await client.calls(call.sid).recordings(ofCall.sid).remove()).toBe(true);
    const gone = await restException(() => client.recordings(mix.sid).fetch());
    expect(gone).toMatchObject({ status: 404, code: 20404 });
    expect(await client.recordings.list()).toEqual([]);

    const refused = await restException(() => client.calls(call.sid).recordings('Twilio.CURRENT').update({ status: 'completed' as 'stopped' }));
    expect(refused).toMatchObject({ status: 400, code: 20001 });
  });
});

function basic(t: TestApp): string {
  return `Basic ${Buffer.from(`${t.accountSid}:${t.authToken}`).toString('base64')}`;
}
