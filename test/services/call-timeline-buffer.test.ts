/**
 * The limits of the call timeline buffer: events per call (the final status move kept), calls
 * (oldest dropped), the time kept after a call's end, and the text cut short.
 */
import { describe, expect, it } from 'vitest';
import type { Call } from '../../src/domain/call.js';
import type { WebhookRequestReport } from '../../src/domain/call-timeline.js';
import { CallTimelineBuffer, KEEP_AFTER_END_MS, MAX_CALLS, MAX_EVENTS_PER_CALL, MAX_TOTAL_CHARS, TEXT_LIMIT } from '../../src/services/calls/call-timeline-buffer.js';

const call = (sid: string, status: Call['status'] = 'in-progress'): Call => ({ sid, status }) as Call;
const report = (callSid: string, url = 'http://app.test/voice'): WebhookRequestReport => ({
  purpose: 'twiml',
  method: 'POST',
  url,
  callSid,
  status: 200,
  errorCode: undefined,
  error: undefined,
  durationMs: 12,
});

describe('the call timeline buffer', () => {
  it('keeps the first events of a call up to the limit, and its final status move last', () => {
    const buffer = new CallTimelineBuffer();
    for (let i = 0; i < MAX_EVENTS_PER_CALL + 50; i++) buffer.verbStarted(call('CA1'), { verb: 'Say', attributes: { text: `line ${i}` } });
    buffer.statusMoved(call('CA1', 'completed'), 'completed');
    const events = buffer.eventsOf('CA1');
    expect(events).toHaveLength(MAX_EVENTS_PER_CALL);
    expect(events[0]).toMatchObject({ kind: 'verb', attributes: { text: 'line 0' } });
    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'completed', event: 'completed' });
  });

  it('keeps at most MAX_CALLS calls, the oldest dropped first', () => {
    const buffer = new CallTimelineBuffer();
    for (let i = 0; i <= MAX_CALLS; i++) buffer.webhookRequested(report(`CA${i}`));
    expect(buffer.eventsOf('CA0')).toEqual([]);
    expect(buffer.eventsOf('CA1')).toHaveLength(1);
    expect(buffer.eventsOf(`CA${MAX_CALLS}`)).toHaveLength(1);
  });

  it('forgets a call KEEP_AFTER_END_MS after its end, not a live one', () => {
    let now = Date.parse('2026-12-06T12:00:00Z');
    const buffer = new CallTimelineBuffer(() => now);
    buffer.statusMoved(call('CAended', 'completed'), 'completed');
    buffer.statusMoved(call('CAlive', 'in-progress'), 'answered');
    now += KEEP_AFTER_END_MS - 1_000;
    expect(buffer.eventsOf('CAended')).toHaveLength(1);
    now += 20_000;
    expect(buffer.eventsOf('CAended')).toEqual([]);
    expect(buffer.eventsOf('CAlive')).toEqual([{ time: '2026-12-06T12:00:00.000Z', kind: 'status', status: 'in-progress', event: 'answered' }]);
  });

  it('keeps all the text under MAX_TOTAL_CHARS, the oldest calls going first', () => {
    const buffer = new CallTimelineBuffer();
    const longUrl = `http://app.test/${'x'.repeat(TEXT_LIMIT)}`;
    const perCall = MAX_EVENTS_PER_CALL * (TEXT_LIMIT + 100);
    const calls = Math.ceil((2 * MAX_TOTAL_CHARS) / perCall);
    for (let i = 0; i < calls; i++) for (let j = 0; j < MAX_EVENTS_PER_CALL; j++) buffer.webhookRequested(report(`CA${i}`, longUrl));
    let kept = 0;
    for (let i = 0; i < calls; i++) kept += JSON.stringify(buffer.eventsOf(`CA${i}`)).length;
    expect(kept).toBeLessThanOrEqual(MAX_TOTAL_CHARS);
    expect(kept).toBeGreaterThan(MAX_TOTAL_CHARS / 2);
    expect(buffer.eventsOf('CA0')).toEqual([]);
    expect(buffer.eventsOf(`CA${calls - 1}`)).toHaveLength(MAX_EVENTS_PER_CALL);
  });

  it('cuts a long URL or attribute short, and files no webhook without a CallSid', () => {
    const buffer = new CallTimelineBuffer();
    buffer.webhookRequested(report('CA1', `http://app.test/${'x'.repeat(5_000)}`));
    buffer.verbStarted(call('CA1'), { verb: 'Play', attributes: { url: 'y'.repeat(5_000) } });
    buffer.webhookRequested({ ...report('CA1'), callSid: undefined });
    const [webhook, verb, ...rest] = buffer.eventsOf('CA1');
    expect(webhook).toMatchObject({ kind: 'webhook', status: 200, durationMs: 12 });
    expect(webhook!.kind === 'webhook' && webhook!.url.length).toBe(TEXT_LIMIT);
    expect(verb!.kind === 'verb' && verb!.attributes.url!.length).toBe(TEXT_LIMIT);
    expect(rest).toEqual([]);
  });
});
