/**
 * Nothing is left behind by calls that come and go: after many calls through conferences and
 * `<Dial>` bridges have ended, the media workers hold no leg and no room, and the control plane
 * knows no leg.
 */
import { describe, expect, it } from 'vitest';
import { placeCall, startTestApp } from '../helpers/test-app.js';
import { until } from '../helpers/until.js';

describe('calls that come and go', () => {
  it('leave no media leg or room behind', async () => {
    const t = await startTestApp('sqlite');
    try {
      const room = (n: number): string => `<Response><Dial><Conference beep="false">room-${n % 5}</Conference></Dial></Response>`;
      const sids: string[] = [];
      for (let i = 0; i < 40; i++) sids.push(await placeCall(t, `sim:p${i};tone=${400 + i};hangup=1`, room(i)));
      for (let i = 0; i < 10; i++) sids.push(await placeCall(t, `sim:c${i}`, '<Response><Dial><Number>sim:callee;hangup=1</Number></Dial></Response>'));
      await until(async () => {
        const live = (await t.request('GET', `/2010-04-01/Accounts/${t.accountSid}/Calls.json?PageSize=1000`)).json<{ calls: { status: string }[] }>().calls;
        return live.length >= 60 && live.every((c) => c.status === 'completed');
      }, 30_000, 'every call to complete', 100);
      const stats = await until(async () => {
        const s = await t.app.media.request('stats', {});
        return s.legs.length === 0 && s.rooms === 0 && s;
      }, 10_000, 'the media workers to hold nothing');
      expect(stats.legs).toEqual([]);
      expect(sids.every((sid) => t.app.media.leg(sid) === undefined)).toBe(true);
    } finally {
      await t.close();
    }
  });
});
