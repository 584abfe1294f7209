/**
 * The official `twilio` npm library (twilio-node v6), unchanged, against a real Conclave on each
 * store: participants fetch, update, remove, list, each, page; conferences list, fetch, update;
 * errors as the library's RestException; API key and subaccount credentials. Each assertion is
 * on what a user of the library sees: instances, Dates, resolved values, thrown exceptions.
 * Participants enter through the service layer (`t.join`) until calls exist. Time comes from a
 * manual clock, so dates are exact and nothing waits.
 */
import { ConferenceInstance } from 'twilio/lib/rest/api/v2010/account/conference.js';
import { ParticipantInstance } from 'twilio/lib/rest/api/v2010/account/conference/participant.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conferencePath, participantPath, participantsPath } from '../helpers/paths.js';
import { STORE_KINDS, type StoreKind } from '../helpers/stores.js';
import type { JoinResult } from '../../src/services/join-conference.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import {
  RecordingRequestClient,
  restException,
  twilioClient,
  useManualClock,
  type ManualClock,
  type TwilioClient,
} from '../helpers/twilio-client.js';

const SECOND = 1000;
const DAY = 86_400_000;
/** A whole second: the API writes dates to the second (RFC 2822). */
const T0 = Date.UTC(2025, 5, 16, 9, 30, 0);
const MORE_INFO = (code: number): string => `https://www.twilio.com/docs/errors/${code}`;

interface Env {
  t: TestApp;
  client: TwilioClient;
  clock: ManualClock;
}

/** A fresh app on `kind` for the enclosing describe, with a manual clock and an owner client. */
function appOn(kind: StoreKind): Env {
  const env = {} as Env;
  beforeAll(async () => {
    env.t = await startTestApp(kind);
    env.clock = useManualClock(env.t, T0);
    env.client = twilioClient(env.t);
  });
  afterAll(async () => {
    await env.t?.close();
  });
  return env;
}

const callSids = (participants: readonly ParticipantInstance[]): string[] => participants.map((p) => p.callSid);
const conferenceSids = (conferences: readonly ConferenceInstance[]): string[] => conferences.map((c) => c.sid);

describe.each(STORE_KINDS)('twilio-node v6 against Conclave on %s', (kind) => {
  describe('a participant', () => {
    const env = appOn(kind);

    it('fetch gives a ParticipantInstance with every field, dates parsed', async () => {
      const { t, client, clock } = env;
      clock.set(T0);
      const first = await t.join('fetch-room', { label: 'agent 1', endConferenceOnExit: true, muted: true });
      clock.set(T0 + 7 * SECOND);
      const second = await t.join('fetch-room', { startConferenceOnEnter: false });
      const cf = first.conference.sid;

      const p = await client.conferences(cf).participants(first.participant.callSid).fetch();
      expect(p).toBeInstanceOf(ParticipantInstance);
      expect(p).toMatchObject({
        accountSid: t.accountSid,
        callSid: first.participant.callSid,
        conferenceSid: cf,
        label: 'agent 1',
        callSidToCoach: null,
        coaching: false,
        endConferenceOnExit: true,
        muted: true,
        hold: false,
        startConferenceOnEnter: true,
        status: 'connected',
        queueTime: null,
        uri: `${participantPath(t.accountSid, cf, first.participant.callSid)}.json`,
      });
      expect(p.dateCreated).toBeInstanceOf(Date);
      expect(p.dateCreated.getTime()).toBe(T0);
      expect(p.dateUpdated).toBeInstanceOf(Date);
      expect(p.dateUpdated.getTime()).toBe(T0);

      const q = await client.conferences(cf).participants(second.participant.callSid).fetch();
      expect(q).toMatchObject({ callSid: second.participant.callSid, label: null, muted: false, startConferenceOnEnter: false, endConferenceOnExit: false });
      expect(q.dateCreated.getTime()).toBe(T0 + 7 * SECOND);
    });

    it('is addressed by its label, space included, for fetch, update and remove', async () => {
      const { t, client } = env;
      const agent = await t.join('label-room', { label: 'agent 1' });
      await t.join('label-room', { label: 'agent 2' });
      const conference = client.conferences(agent.conference.sid);

      const fetched = await conference.participants('agent 1').fetch();
      expect(fetched.callSid).toBe(agent.participant.callSid);
      expect(fetched.label).toBe('agent 1');

      const held = await conference.participants('agent 1').update({ hold: true });
      expect(held).toMatchObject({ callSid: agent.participant.callSid, hold: true });

      await expect(conference.participants('agent 1').remove()).resolves.toBe(true);
      const gone = await restException(() => conference.participants('agent 1').fetch());
      expect(gone).toMatchObject({ status: 404, code: 20404 });
      expect(callSids(await conference.participants.list())).not.toContain(agent.participant.callSid);
    });

    it('update({ muted }) mutes and unmutes, and moves dateUpdated only', async () => {
      const { t, client, clock } = env;
      clock.set(T0);
      const a = await t.join('mute-room');
      const b = await t.join('mute-room');
      const context = client.conferences(a.conference.sid).participants(a.participant.callSid);

      clock.set(T0 + 5 * SECOND);
      const muted = await context.update({ muted: true });
      expect(muted).toBeInstanceOf(ParticipantInstance);
      expect(muted).toMatchObject({ callSid: a.participant.callSid, muted: true, hold: false, status: 'connected' });
      expect(muted.dateCreated.getTime()).toBe(T0);
      expect(muted.dateUpdated.getTime()).toBe(T0 + 5 * SECOND);
      expect((await context.fetch()).muted).toBe(true);

      clock.set(T0 + 9 * SECOND);
      const unmuted = await context.update({ muted: false });
      expect(unmuted.muted).toBe(false);
      expect(unmuted.dateUpdated.getTime()).toBe(T0 + 9 * SECOND);
      expect((await context.fetch()).muted).toBe(false);

      const other = await client.conferences(a.conference.sid).participants(b.participant.callSid).fetch();
      expect(other.muted).toBe(false);
      expect(other.dateUpdated.getTime()).toBe(T0);
    });

    it('update({ hold }) holds and resumes, leaving mute as it was', async () => {
      const { t, client, clock } = env;
      clock.set(T0);
      const a = await t.join('hold-room', { muted: true });
      const b = await t.join('hold-room');
      const conference = client.conferences(a.conference.sid);

      clock.set(T0 + 3 * SECOND);
      const held = await conference.participants(a.participant.callSid).update({ hold: true });
      expect(held).toMatchObject({ hold: true, muted: true });
      expect(held.dateUpdated.getTime()).toBe(T0 + 3 * SECOND);
      expect(callSids(await conference.participants.list({ hold: true }))).toEqual([a.participant.callSid]);
      expect(callSids(await conference.participants.list({ hold: false }))).toEqual([b.participant.callSid]);

      const resumed = await conference.participants(a.participant.callSid).update({ hold: false });
      expect(resumed).toMatchObject({ hold: false, muted: true });
      expect(await conference.participants.list({ hold: true })).toEqual([]);
    });

    it('update({ coaching, callSidToCoach }) makes a coach, and coaching: false undoes it', async () => {
      const { t, client } = env;
      const agent = await t.join('coach-room', { label: 'agent' });
      await t.join('coach-room', { label: 'customer' });
      const supervisor = await t.join('coach-room', { label: 'supervisor' });
      const conference = client.conferences(agent.conference.sid);

      const coach = await conference.participants(supervisor.participant.callSid).update({
        coaching: true,
        callSidToCoach: agent.participant.callSid,
      });
      expect(coach).toMatchObject({ callSid: supervisor.participant.callSid, coaching: true, callSidToCoach: agent.participant.callSid });
      expect((await conference.participants('supervisor').fetch()).callSidToCoach).toBe(agent.participant.callSid);
      expect(callSids(await conference.participants.list({ coaching: true }))).toEqual([supervisor.participant.callSid]);

      const plain = await conference.participants(supervisor.participant.callSid).update({ coaching: false });
      expect(plain).toMatchObject({ coaching: false, callSidToCoach: null });
      expect(await conference.participants.list({ coaching: true })).toEqual([]);
    });

    it('remove() resolves true; the participant is then 404 / 20404 and out of the list', async () => {
      const { t, client } = env;
      const a = await t.join('kick-room');
      const b = await t.join('kick-room');
      const cf = a.conference.sid;
      const context = client.conferences(cf).participants(a.participant.callSid);

      await expect(context.remove()).resolves.toBe(true);

      const error = await restException(() => context.fetch());
      expect(error.status).toBe(404);
      expect(error.code).toBe(20404);
      expect(error.moreInfo).toBe(MORE_INFO(20404));
      expect(error.message).toBe(`The requested resource ${participantPath(t.accountSid, cf, a.participant.callSid)}.json was not found`);
      expect(callSids(await client.conferences(cf).participants.list())).toEqual([b.participant.callSid]);
      expect(await restException(() => context.remove())).toMatchObject({ status: 404, code: 20404 });
    });

    it('list({ muted: true }) gives exactly the muted participants, in the order they joined', async () => {
      const { t, client } = env;
      const joined: JoinResult[] = [];
      for (const muted of [true, false, true, false, true]) joined.push(await t.join('muted-list-room', { muted }));
      const cf = joined[0]!.conference.sid;
      const sidsOf = (wanted: boolean): string[] => joined.filter((j) => j.participant.muted === wanted).map((j) => j.participant.callSid);

      const muted = await client.conferences(cf).participants.list({ muted: true });
      expect(muted.every((p) => p instanceof ParticipantInstance && p.muted)).toBe(true);
      expect(callSids(muted)).toEqual(sidsOf(true));
      expect(callSids(await client.conferences(cf).participants.list({ muted: false }))).toEqual(sidsOf(false));
    });
  });

  describe('a conference', () => {
    const env = appOn(kind);

    it('fetch gives a ConferenceInstance with every field', async () => {
      const { t, client, clock } = env;
      clock.set(T0);
      const first = await t.join('conference-fetch-room');
      clock.set(T0 + 2 * SECOND);
      await t.join('conference-fetch-room');
      const cf = first.conference.sid;

      const conference = await client.conferences(cf).fetch();
      expect(conference).toBeInstanceOf(ConferenceInstance);
      expect(conference).toMatchObject({
        sid: cf,
        accountSid: t.accountSid,
        friendlyName: 'conference-fetch-room',
        status: 'in-progress',
        region: 'us1',
        apiVersion: '2010-04-01',
        reasonConferenceEnded: null,
        callSidEndingConference: null,
        uri: `${conferencePath(t.accountSid, cf)}.json`,
        subresourceUris: {
          participants: `${participantsPath(t.accountSid, cf)}.json`,
          recordings: `${conferencePath(t.accountSid, cf)}/Recordings.json`,
        },
      });
      expect(conference.dateCreated).toBeInstanceOf(Date);
      expect(conference.dateCreated.getTime()).toBe(T0);
      expect(conference.dateUpdated.getTime()).toBe(T0 + 2 * SECOND);
    });

    it("update({ status: 'completed' }) ends it via the API and its participants are gone", async () => {
      const { t, client, clock } = env;
      clock.set(T0);
      const a = await t.join('end-room');
      const b = await t.join('end-room');
      const cf = a.conference.sid;

      clock.set(T0 + 60 * SECOND);
      const ended = await client.conferences(cf).update({ status: 'completed' });
      expect(ended).toBeInstanceOf(ConferenceInstance);
      expect(ended).toMatchObject({
        sid: cf,
        status: 'completed',
        reasonConferenceEnded: 'conference-ended-via-api',
        callSidEndingConference: null,
      });
      expect(ended.dateUpdated.getTime()).toBe(T0 + 60 * SECOND);

      expect(await client.conferences(cf).participants.list()).toEqual([]);
      for (const p of [a, b]) {
        const error = await restException(() => client.conferences(cf).participants(p.participant.callSid).fetch());
        expect(error).toMatchObject({ status: 404, code: 20404 });
      }
      expect((await client.conferences(cf).fetch()).status).toBe('completed');
      expect(conferenceSids(await client.conferences.list({ friendlyName: 'end-room', status: 'completed' }))).toEqual([cf]);

      // Ending it again changes nothing; joining the name again opens a new conference.
      clock.set(T0 + 90 * SECOND);
      const again = await client.conferences(cf).update({ status: 'completed' });
      expect(again).toMatchObject({ status: 'completed', reasonConferenceEnded: 'conference-ended-via-api' });
      expect(again.dateUpdated.getTime()).toBe(T0 + 60 * SECOND);
      const next = await t.join('end-room');
      expect(next.conference.sid).not.toBe(cf);
    });
  });

  describe('paging participants', () => {
    const env = appOn(kind);
    let cf = '';
    /** Seven participants in the order they joined; p0, p2, p3, p5, p6 muted. */
    const all: string[] = [];
    const muted: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        env.clock.set(T0 + i * SECOND);
        const { conference, participant } = await env.t.join('paging-room', { label: `p${i}`, muted: i % 3 !== 1 });
        cf = conference.sid;
        all.push(participant.callSid);
        if (participant.muted) muted.push(participant.callSid);
      }
    });
    /** A client that notes its requests, to see that paging really took several pages. */
    function recorded(): { client: TwilioClient; pages: () => URL[] } {
      const http = new RecordingRequestClient();
      const client = twilioClient(env.t, { httpClient: http });
      return { client, pages: () => http.requests.filter((r) => r.method === 'GET').map((r) => r.url) };
    }

    it('list() gives all of them in the order they joined', async () => {
      expect(callSids(await env.client.conferences(cf).participants.list())).toEqual(all);
    });

    it('list({ limit: 3 }) gives the first three', async () => {
      const { client, pages } = recorded();
      expect(callSids(await client.conferences(cf).participants.list({ limit: 3 }))).toEqual(all.slice(0, 3));
      expect(pages()).toHaveLength(1);
      expect(pages()[0]!.searchParams.get('PageSize')).toBe('3');
    });

    it('list({ pageSize: 2 }) walks four pages and gives every participant exactly once', async () => {
      const { client, pages } = recorded();
      const listed = callSids(await client.conferences(cf).participants.list({ pageSize: 2 }));
      expect(listed).toEqual(all);
      expect(new Set(listed).size).toBe(7);
      expect(pages()).toHaveLength(4);
      for (const url of pages()) {
        expect(url.origin).toBe(env.t.baseUrl);
        expect(url.pathname).toBe(`${participantsPath(env.t.accountSid, cf)}.json`);
        expect(url.searchParams.get('PageSize')).toBe('2');
      }
    });

    it('list({ muted: true, pageSize: 2 }) keeps the filter on every page', async () => {
      const { client, pages } = recorded();
      expect(callSids(await client.conferences(cf).participants.list({ muted: true, pageSize: 2 }))).toEqual(muted);
      expect(pages()).toHaveLength(3);
      for (const url of pages()) expect(url.searchParams.get('Muted')).toBe('true');
    });

    it('each() calls back once per participant, then done', async () => {
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        env.client.conferences(cf).participants.each({
          pageSize: 2,
          callback: (p) => {
            seen.push(p.callSid);
          },
          done: (error?: Error) => (error ? reject(error) : resolve()),
        });
      });
      expect(seen).toEqual(all);

      const limited: string[] = [];
      await new Promise<void>((resolve, reject) => {
        env.client.conferences(cf).participants.each({
          limit: 4,
          pageSize: 3,
          callback: (p) => {
            limited.push(p.callSid);
          },
          done: (error?: Error) => (error ? reject(error) : resolve()),
        });
      });
      expect(limited).toEqual(all.slice(0, 4));
    });

    it('page({ pageSize: 2 }), nextPage() and previousPage() step through the pages', async () => {
      const participants = env.client.conferences(cf).participants;
      const first = await participants.page({ pageSize: 2 });
      expect(callSids(first.instances)).toEqual(all.slice(0, 2));
      expect(first.previousPageUrl).toBeUndefined();
      expect(first.previousPage()).toBeUndefined();
      expect(first.nextPageUrl).toMatch(new RegExp(`^${env.t.baseUrl}${participantsPath(env.t.accountSid, cf)}\\.json\\?`));

      const second = await first.nextPage()!;
      expect(callSids(second.instances)).toEqual(all.slice(2, 4));
      const third = await second.nextPage()!;
      expect(callSids(third.instances)).toEqual(all.slice(4, 6));
      const back = await third.previousPage()!;
      expect(callSids(back.instances)).toEqual(all.slice(2, 4));
      const backAgain = await back.previousPage()!;
      expect(callSids(backAgain.instances)).toEqual(all.slice(0, 2));
      const last = await third.nextPage()!;
      expect(callSids(last.instances)).toEqual(all.slice(6));
      expect(last.nextPageUrl).toBeUndefined();
      expect(last.nextPage()).toBeUndefined();
    });

    it('a participant leaving between pages makes the next page neither skip nor repeat anyone', async () => {
      const { t, client } = env;
      const joined: string[] = [];
      for (let i = 0; i < 5; i++) joined.push((await t.join('leaving-room')).participant.callSid);
      const conference = client.conferences((await client.conferences.list({ friendlyName: 'leaving-room', limit: 1 }))[0]!.sid);

      const first = await conference.participants.page({ pageSize: 2 });
      expect(callSids(first.instances)).toEqual(joined.slice(0, 2));
      await conference.participants(joined[0]!).remove();
      const second = await first.nextPage()!;
      expect(callSids(second.instances)).toEqual(joined.slice(2, 4));
    });
  });

  describe('listing conferences', () => {
    const env = appOn(kind);
    const day1 = Date.UTC(2025, 2, 1, 10, 0, 0);
    const day2 = day1 + DAY;
    const day3 = day1 + 2 * DAY;
    /** Conference SIDs by friendly name. */
    const sid: Record<string, string> = {};
    const named = (...names: string[]): string[] => names.map((name) => sid[name] ?? `no conference ${name}`);

    beforeAll(async () => {
      const { t, clock } = env;
      const open = async (name: string, at: number, participants: number): Promise<void> => {
        clock.set(at);
        for (let i = 0; i < participants; i++) sid[name] = (await t.join(name)).conference.sid;
      };
      await open('alpha', day1, 2); // in-progress
      await open('beta', day2, 1); // init: one participant does not start a conference
      await open('delta', day2 + 3600 * SECOND, 2); // ended below
      clock.set(day2 + 7200 * SECOND);
      const ended = await t.request('POST', `${conferencePath(t.accountSid, sid.delta!)}.json`, { form: { Status: 'completed' } });
      expect(ended.status).toBe(200);
      await open('gamma', day3, 2); // in-progress
      await open('today', Math.floor(Date.now() / SECOND) * SECOND, 2); // in-progress
    });

    it('list() gives every conference, newest first', async () => {
      expect(conferenceSids(await env.client.conferences.list())).toEqual(named('today', 'gamma', 'delta', 'beta', 'alpha'));
    });

    it("list({ status }) filters by 'in-progress', 'init' and 'completed'", async () => {
      const conferences = env.client.conferences;
      const inProgress = await conferences.list({ status: 'in-progress' });
      expect(inProgress.every((c) => c instanceof ConferenceInstance && c.status === 'in-progress')).toBe(true);
      expect(conferenceSids(inProgress)).toEqual(named('today', 'gamma', 'alpha'));
      expect(conferenceSids(await conferences.list({ status: 'init' }))).toEqual(named('beta'));
      const completed = await conferences.list({ status: 'completed' });
      expect(conferenceSids(completed)).toEqual(named('delta'));
      expect(completed[0]!.reasonConferenceEnded).toBe('conference-ended-via-api');
    });

    it('list({ friendlyName }) gives the conferences of that name', async () => {
      const conferences = env.client.conferences;
      const beta = await conferences.list({ friendlyName: 'beta' });
      expect(conferenceSids(beta)).toEqual(named('beta'));
      expect(beta[0]!.friendlyName).toBe('beta');
      expect(await conferences.list({ friendlyName: 'no-such-room' })).toEqual([]);
      expect(conferenceSids(await conferences.list({ friendlyName: 'delta', status: 'completed' }))).toEqual(named('delta'));
      expect(await conferences.list({ friendlyName: 'delta', status: 'in-progress' })).toEqual([]);
    });

    it('list({ dateCreated }) gives the conferences created that UTC day', async () => {
      const conferences = env.client.conferences;
      expect(conferenceSids(await conferences.list({ dateCreated: new Date() }))).toEqual(named('today'));
      // Any time of the day names the day: the library sends YYYY-MM-DD in UTC.
      expect(conferenceSids(await conferences.list({ dateCreated: new Date(day2 + 13 * 3600 * SECOND) }))).toEqual(named('delta', 'beta'));
      expect(conferenceSids(await conferences.list({ dateCreated: new Date(day1) }))).toEqual(named('alpha'));
      expect(await conferences.list({ dateCreated: new Date(day1 - DAY) })).toEqual([]);
    });

    it('list({ dateCreatedAfter, dateCreatedBefore }) take whole days, bounds included', async () => {
      const conferences = env.client.conferences;
      expect(conferenceSids(await conferences.list({ dateCreatedAfter: new Date(day2) }))).toEqual(named('today', 'gamma', 'delta', 'beta'));
      expect(conferenceSids(await conferences.list({ dateCreatedBefore: new Date(day2) }))).toEqual(named('delta', 'beta', 'alpha'));
      expect(conferenceSids(await conferences.list({ dateCreatedAfter: new Date(day1), dateCreatedBefore: new Date(day2) }))).toEqual(
        named('delta', 'beta', 'alpha'),
      );
      expect(
        conferenceSids(await conferences.list({ dateCreatedAfter: new Date(day2), dateCreatedBefore: new Date(day3), status: 'in-progress' })),
      ).toEqual(named('gamma'));
    });

    it('list({ dateUpdated… }) filters on the last change', async () => {
      const conferences = env.client.conferences;
      expect(conferenceSids(await conferences.list({ dateUpdated: new Date(day2) }))).toEqual(named('delta', 'beta'));
      expect(conferenceSids(await conferences.list({ dateUpdatedAfter: new Date(day3) }))).toEqual(named('today', 'gamma'));
    });

    it('list({ pageSize }) and list({ limit }) page through conferences', async () => {
      const http = new RecordingRequestClient();
      const client = twilioClient(env.t, { httpClient: http });
      expect(conferenceSids(await client.conferences.list({ pageSize: 2 }))).toEqual(named('today', 'gamma', 'delta', 'beta', 'alpha'));
      expect(http.requests).toHaveLength(3);
      expect(conferenceSids(await client.conferences.list({ status: 'in-progress', pageSize: 1 }))).toEqual(named('today', 'gamma', 'alpha'));
      expect(http.requests.slice(3).map((r) => r.url.searchParams.get('Status'))).toEqual(['in-progress', 'in-progress', 'in-progress']);
      expect(conferenceSids(await client.conferences.list({ limit: 2 }))).toEqual(named('today', 'gamma'));
    });
  });

  describe('errors', () => {
    const env = appOn(kind);

    it('an unknown participant or conference is a RestException 404 / 20404', async () => {
      const { t, client } = env;
      const a = await t.join('errors-room');
      const cf = a.conference.sid;
      const missingCall = `CA${'0'.repeat(32)}`;
      const missingConference = `CF${'0'.repeat(32)}`;

      const participant = await restException(() => client.conferences(cf).participants(missingCall).fetch());
      expect(participant).toMatchObject({ status: 404, code: 20404, moreInfo: MORE_INFO(20404) });
      expect(participant.message).toBe(`The requested resource ${participantPath(t.accountSid, cf, missingCall)}.json was not found`);

      expect(await restException(() => client.conferences(cf).participants(missingCall).update({ muted: true }))).toMatchObject({
        status: 404,
        code: 20404,
      });
      expect(await restException(() => client.conferences(missingConference).fetch())).toMatchObject({ status: 404, code: 20404 });
      expect(await restException(() => client.conferences(missingConference).update({ status: 'completed' }))).toMatchObject({
        status: 404,
        code: 20404,
      });
      expect(await restException(() => client.conferences(missingConference).participants.list())).toMatchObject({ status: 404, code: 20404 });
      expect(await restException(() => client.conferences(missingConference).participants(a.participant.callSid).fetch())).toMatchObject({
        status: 404,
        code: 20404,
      });
    });

    it('a URL the router cannot decode is still a Twilio RestException (400 / 20001), not a fastify error body', async () => {
      const { t, client } = env;
      const a = await t.join('percent-room', { label: '50% off' });
      // twilio-node does not pre-encode ids and WHATWG URL leaves a bare `%` as it is, so this
      // sends `…/Participants/50%%20off.json`, which is not a valid percent-encoding.
      const error = await restException(() => client.conferences(a.conference.sid).participants('50% off').fetch());
      expect(error.status).toBe(400);
      expect(error.code).toBe(20001);
      expect(error.moreInfo).toBe(MORE_INFO(20001));
      // Addressed by its call SID, the same participant is there.
      expect((await client.conferences(a.conference.sid).participants(a.participant.callSid).fetch()).label).toBe('50% off');
    });

    it('wrong credentials are a RestException 401 / 20003', async () => {
      const { t } = env;
      const wrongToken = twilioClient(t, { password: 'f'.repeat(32) });
      const error = await restException(() => wrongToken.conferences.list());
      expect(error).toMatchObject({ status: 401, code: 20003, moreInfo: MORE_INFO(20003) });
      expect(error.message).toBe('Authenticate');

      const unknownAccount = twilioClient(t, { username: `AC${'0'.repeat(32)}` });
      expect(await restException(() => unknownAccount.conferences.list())).toMatchObject({ status: 401, code: 20003 });
      const otherAccountPath = twilioClient(t, { accountSid: `AC${'0'.repeat(32)}` });
      expect(await restException(() => otherAccountPath.conferences.list())).toMatchObject({ status: 401, code: 20003 });
    });

    it('a bad value is a RestException 400 / 20001 and changes nothing', async () => {
      const { t, client } = env;
      const a = await t.join('bad-values-room');
      const b = await t.join('bad-values-room');
      const conference = client.conferences(a.conference.sid);
      const context = conference.participants(a.participant.callSid);

      // The library passes a string through as it is: `Hold=maybe`.
      const hold = await restException(() => context.update({ hold: 'maybe' as unknown as boolean }));
      expect(hold).toMatchObject({ status: 400, code: 20001, moreInfo: MORE_INFO(20001) });
      expect(hold.message).toMatch(/Hold/);

      const coachNobody = await restException(() => context.update({ coaching: true }));
      expect(coachNobody).toMatchObject({ status: 400, code: 20001 });
      expect(coachNobody.message).toMatch(/CallSidToCoach/);
      expect(await restException(() => context.update({ callSidToCoach: 'nobody' }))).toMatchObject({ status: 400, code: 20001 });
      expect(await restException(() => context.update({ coaching: true, callSidToCoach: a.participant.callSid }))).toMatchObject({
        status: 400,
        code: 20001,
      });

      expect(await restException(() => conference.update({ status: 'in-progress' as unknown as 'completed' }))).toMatchObject({
        status: 400,
        code: 20001,
      });
      expect(await restException(() => client.conferences.list({ status: 'over' as unknown as 'completed' }))).toMatchObject({
        status: 400,
        code: 20001,
      });
      expect(await restException(() => conference.participants.page({ pageSize: 1001 }))).toMatchObject({ status: 400, code: 20001 });

      const unchanged = await context.fetch();
      expect(unchanged).toMatchObject({ hold: false, muted: false, coaching: false, callSidToCoach: null });
      expect((await conference.fetch()).status).toBe('in-progress');
      expect(callSids(await conference.participants.list())).toEqual([a.participant.callSid, b.participant.callSid]);
    });
  });

  describe('API key credentials', () => {
    const env = appOn(kind);
    let keySid = '';
    let secret = '';

    beforeAll(async () => {
      const { t } = env;
      const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Keys.json`, { form: { FriendlyName: 'library test' } });
      expect(created.status).toBe(201);
      const key = created.json<{ sid: string; secret: string }>();
      keySid = key.sid;
      secret = key.secret;
      expect(keySid).toMatch(/^SK[0-9a-f]{32}$/);
    });

    it('twilio(keySid, secret, { accountSid }) fetches, updates, lists and removes', async () => {
      const { t } = env;
      const client = twilioClient(t, { username: keySid, password: secret, accountSid: t.accountSid });
      const a = await t.join('key-room', { label: 'first' });
      const b = await t.join('key-room');
      const cf = a.conference.sid;

      expect(conferenceSids(await client.conferences.list({ friendlyName: 'key-room' }))).toEqual([cf]);
      expect(conferenceSids(await client.conferences.list({ status: 'in-progress' }))).toEqual([cf]);
      expect((await client.conferences(cf).fetch()).accountSid).toBe(t.accountSid);
      expect((await client.conferences(cf).participants('first').fetch()).callSid).toBe(a.participant.callSid);
      expect((await client.conferences(cf).participants(a.participant.callSid).update({ muted: true })).muted).toBe(true);
      expect(callSids(await client.conferences(cf).participants.list({ muted: true }))).toEqual([a.participant.callSid]);
      expect(callSids(await client.conferences(cf).participants.list({ pageSize: 1 }))).toEqual([a.participant.callSid, b.participant.callSid]);
      await expect(client.conferences(cf).participants(b.participant.callSid).remove()).resolves.toBe(true);
      const ended = await client.conferences(cf).update({ status: 'completed' });
      expect(ended.reasonConferenceEnded).toBe('conference-ended-via-api');
    });

    it('a wrong secret is 401 / 20003; a key may not create keys (403)', async () => {
      const { t } = env;
      const wrong = twilioClient(t, { username: keySid, password: 'x'.repeat(32), accountSid: t.accountSid });
      expect(await restException(() => wrong.conferences.list())).toMatchObject({ status: 401, code: 20003 });

      const client = twilioClient(t, { username: keySid, password: secret, accountSid: t.accountSid });
      expect(await restException(() => client.api.v2010.account.newKeys.create({ friendlyName: 'minted' }))).toMatchObject({ status: 403, code: 20003 });
    });

    it('a deleted key no longer authenticates', async () => {
      const { t } = env;
      const created = await t.request('POST', `/2010-04-01/Accounts/${t.accountSid}/Keys.json`, { form: { FriendlyName: 'short-lived' } });
      const key = created.json<{ sid: string; secret: string }>();
      const client = twilioClient(t, { username: key.sid, password: key.secret, accountSid: t.accountSid });
      await expect(client.conferences.list()).resolves.toBeInstanceOf(Array);

      const deleted = await t.request('DELETE', `/2010-04-01/Accounts/${t.accountSid}/Keys/${key.sid}.json`);
      expect(deleted.status).toBe(204);
      expect(await restException(() => client.conferences.list())).toMatchObject({ status: 401, code: 20003 });
    });
  });

  describe('a subaccount', () => {
    const env = appOn(kind);

    it('accounts.create() makes one, and { accountSid: sub } works on its conferences only', async () => {
      const { t, client, clock } = env;
      clock.set(T0);
      const sub = await client.api.v2010.accounts.create({ friendlyName: 'Tenant A' });
      expect(sub).toMatchObject({ friendlyName: 'Tenant A', ownerAccountSid: t.accountSid, status: 'active', type: 'Full' });
      expect(sub.sid).toMatch(/^AC[0-9a-f]{32}$/);
      expect(sub.sid).not.toBe(t.accountSid);
      expect(sub.authToken).toMatch(/^[0-9a-f]{32}$/);
      expect(sub.dateCreated.getTime()).toBe(T0);
      expect((await client.api.v2010.accounts(sub.sid).fetch()).friendlyName).toBe('Tenant A');
      expect((await client.api.v2010.accounts.list()).map((a) => a.sid)).toEqual(expect.arrayContaining([t.accountSid, sub.sid]));

      const tenant = await t.join('tenant-room', { accountSid: sub.sid });
      await t.join('tenant-room', { accountSid: sub.sid });
      const own = await t.join('owner-room');
      const cf = tenant.conference.sid;

      const asSub = twilioClient(t, { accountSid: sub.sid });
      const listed = await asSub.conferences.list();
      expect(conferenceSids(listed)).toEqual([cf]);
      expect(listed[0]).toMatchObject({ accountSid: sub.sid, friendlyName: 'tenant-room', uri: `${conferencePath(sub.sid, cf)}.json` });
      expect(conferenceSids(await asSub.conferences.list({ status: 'in-progress' }))).toEqual([cf]);
      expect(await asSub.conferences.list({ friendlyName: 'owner-room' })).toEqual([]);
      const participants = await asSub.conferences(cf).participants.list();
      expect(participants).toHaveLength(2);
      expect(participants.every((p) => p.accountSid === sub.sid)).toBe(true);
      expect((await asSub.conferences(cf).participants(tenant.participant.callSid).update({ muted: true })).muted).toBe(true);
      expect(await restException(() => asSub.conferences(own.conference.sid).fetch())).toMatchObject({ status: 404, code: 20404 });

      // The owner's own account does not show the subaccount's conferences.
      expect(conferenceSids(await client.conferences.list())).toEqual([own.conference.sid]);
      expect(await restException(() => client.conferences(cf).fetch())).toMatchObject({ status: 404, code: 20404 });

      // The subaccount's own credentials reach it, and not its owner.
      const subOwn = twilioClient(t, { username: sub.sid, password: sub.authToken });
      expect(conferenceSids(await subOwn.conferences.list())).toEqual([cf]);
      const upward = twilioClient(t, { username: sub.sid, password: sub.authToken, accountSid: t.accountSid });
      expect(await restException(() => upward.conferences.list())).toMatchObject({ status: 401, code: 20003 });
    });
  });
});
