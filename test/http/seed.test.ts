/**
 * Every line of the seed (kept as data in `test/fixtures/participants-2010.txt`) holds, byte for byte where it
 * shows bytes. The expected documents are cut out of the seed file itself; only the conference
 * SID (made by Conclave) is substituted, and the seed's typos `numpages=true end=true` are read
 * as the numbers they stand for. `&` in attribute values is written `&amp;`, as XML requires.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { STORE_KINDS } from '../helpers/stores.js';
import { ManualClock, startTestApp, type TestApp } from '../helpers/test-app.js';

const SEED = readFileSync(fileURLToPath(new URL('../fixtures/participants-2010.txt', import.meta.url)), 'utf8');
const SEED_AC = 'AC5ef872f6da5a21de157d80997a64bd33';
const SEED_CF = 'CFbbe46ff1274e283f7e3ac1df0072ab39';
const SEED_CA = 'CA386025c9bf5d6052a1d1ea42b4d16662';
const JOINED = Date.UTC(2010, 7, 18, 20, 20, 10);
const MUTED_AT = Date.UTC(2010, 7, 18, 20, 23, 23);

/** The seed's XML documents, in order: fetch, mute, list. */
function seedDocuments(): string[] {
  const lines = SEED.split('\n');
  const docs: string[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (line === '<TwilioResponse>') current = [];
    current?.push(line);
    if (line === '</TwilioResponse>' && current) {
      docs.push(current.join('\n'));
      current = undefined;
    }
  }
  return docs;
}

describe.each(STORE_KINDS)('the seed, on %s', (kind) => {
  let t: TestApp;
  let cf: string;
  let base: string;
  const clock = new ManualClock(JOINED);
  const [fetchDoc, muteDoc, listDoc] = seedDocuments();

  beforeEach(async () => {
    clock.set(JOINED);
    t = await startTestApp(kind, { clock, accountSid: SEED_AC });
    const joined = await t.join('seed-room', { callSid: SEED_CA, endConferenceOnExit: true, startConferenceOnEnter: true });
    cf = joined.conference.sid;
    base = `/2010-04-01/Accounts/${SEED_AC}/Conferences/${cf}/Participants`;
  });
  afterEach(async () => t.close());

  const withOurConference = (doc: string | undefined): string => (doc ?? '').replaceAll(SEED_CF, cf);

  it('has three XML documents to check', () => {
    expect([fetchDoc, muteDoc, listDoc].every(Boolean)).toBe(true);
  });

  it('GET a participant returns the seed document', async () => {
    const res = await t.request('GET', `${base}/${SEED_CA}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(res.body).toBe(withOurConference(fetchDoc));
  });

  it('POST Muted=true mutes, with the seed document and a new DateUpdated', async () => {
    clock.set(MUTED_AT);
    const res = await t.request('POST', `${base}/${SEED_CA}`, { form: { Muted: 'true' } });
    expect(res.status).toBe(200);
    expect(res.body).toBe(withOurConference(muteDoc));
    expect((await t.request('GET', `${base}/${SEED_CA}`)).body).toBe(withOurConference(muteDoc));
  });

  it('Muted=false unmutes; anything other than true or false counts as false', async () => {
    await t.request('POST', `${base}/${SEED_CA}`, { form: { Muted: 'true' } });
    const off = await t.request('POST', `${base}/${SEED_CA}.json`, { form: { Muted: 'false' } });
    expect(off.json().muted).toBe(false);
    for (const value of ['yes', '1', 'on', '']) {
      await t.request('POST', `${base}/${SEED_CA}`, { form: { Muted: 'true' } });
      const res = await t.request('POST', `${base}/${SEED_CA}.json`, { form: { Muted: value } });
      expect(res.status, `Muted=${value}`).toBe(200);
      expect(res.json().muted, `Muted=${value}`).toBe(false);
    }
    const upper = await t.request('POST', `${base}/${SEED_CA}.json`, { form: { Muted: 'TRUE' } });
    expect(upper.json().muted).toBe(true);
  });

  it('PUT is not supported: 405', async () => {
    const res = await t.request('PUT', `${base}/${SEED_CA}`, { form: { Muted: 'true' } });
    expect(res.status).toBe(405);
    expect(res.body).toContain('<Code>20004</Code>');
  });

  it('DELETE kicks: 204 with no body, and the participant is gone', async () => {
    await t.join('seed-room');
    const res = await t.request('DELETE', `${base}/${SEED_CA}`);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect((await t.request('GET', `${base}/${SEED_CA}`)).status).toBe(404);
  });

  it('GET the list returns the seed document, with real numbers for numpages and end', async () => {
    const second = await t.join('seed-room', { startConferenceOnEnter: false });
    const res = await t.request('GET', base);
    expect(res.status).toBe(200);
    const expected = withOurConference(listDoc)
      .replace('numpages=true', 'numpages="1"')
      .replace('end=true', 'end="1"')
      .replaceAll('?Page=0&PageSize=50', '?Page=0&amp;PageSize=50');
    const [head, tail] = expected.split('\n...\n');
    const secondItem = [
      '<Participant>',
      `<ConferenceSid>${cf}</ConferenceSid>`,
      `<AccountSid>${SEED_AC}</AccountSid>`,
      `<CallSid>${second.participant.callSid}</CallSid>`,
      '<Muted>false</Muted>',
      '<EndConferenceOnExit>false</EndConferenceOnExit>',
      '<StartConferenceOnEnter>false</StartConferenceOnEnter>',
      '<DateCreated>Wed, 18 Aug 2010 20:20:10 +0000</DateCreated>',
      '<DateUpdated>Wed, 18 Aug 2010 20:20:10 +0000</DateUpdated>',
      `<Uri>${base}/${second.participant.callSid}</Uri>`,
      '</Participant>',
    ].join('\n');
    expect(res.body).toBe(`${head}\n${secondItem}\n${tail}`);
    expect(XMLValidator.validate(res.body)).toBe(true);
  });

  it('the Muted filter shows only muted or only unmuted participants', async () => {
    const other = await t.join('seed-room');
    await t.request('POST', `${base}/${other.participant.callSid}`, { form: { Muted: 'true' } });
    const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'Participant' });
    const callSids = async (query: string): Promise<string[]> => {
      const body = (await t.request('GET', `${base}${query}`)).body;
      const doc = parser.parse(body) as { TwilioResponse: { Participants: { Participant?: Array<{ CallSid: string }> } } };
      return (doc.TwilioResponse.Participants.Participant ?? []).map((p) => p.CallSid);
    };
    expect(await callSids('?Muted=true')).toEqual([other.participant.callSid]);
    expect(await callSids('?Muted=false')).toEqual([SEED_CA]);
    expect(await callSids('')).toEqual([SEED_CA, other.participant.callSid]);
    const bad = await t.request('GET', `${base}?Muted=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('Muted');
  });

  it('the list in JSON carries the filter in its page links', async () => {
    const res = await t.request('GET', `${base}.json?Muted=false`);
    const body = res.json();
    expect(body.uri).toBe(`${base}.json?Muted=false&PageSize=50&Page=0`);
    expect(body.first_page_uri).toBe(`${base}.json?Muted=false&PageSize=50&Page=0`);
    expect(body.next_page_uri).toBeNull();
    expect(body.previous_page_uri).toBeNull();
    expect(body.total).toBe(1);
  });
});
