/**
 * `<Record>` parsing: Twilio's defaults, every attribute, and what Conclave does not offer
 * (transcription) named in a warning.
 */
import { describe, expect, it } from 'vitest';
import { parseTwiml } from '../../src/twiml/parse-twiml.js';

const one = (inner: string, documentUrl?: string) => parseTwiml(`<Response>${inner}</Response>`, documentUrl ? { documentUrl } : {});

describe('<Record>', () => {
  it("applies Twilio's defaults", () => {
    expect(one('<Record/>').verbs[0]).toEqual({
      verb: 'Record',
      action: undefined,
      method: 'POST',
      timeout: 5,
      finishOnKey: '1234567890*#',
      maxLength: 3600,
      playBeep: true,
      trim: 'trim-silence',
      recordingStatusCallback: undefined,
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: ['completed'],
    });
  });

  it('reads every attribute, resolving URLs against the document', () => {
    const { verbs, warnings } = one(
      '<Record action="done" method="GET" timeout="0" finishOnKey="" maxLength="30" playBeep="false" trim="do-not-trim" ' +
        'recordingStatusCallback="/rs" recordingStatusCallbackMethod="GET" recordingStatusCallbackEvent="in-progress completed absent"/>',
      'https://app.example/voice/mail',
    );
    expect(warnings).toEqual([]);
    expect(verbs[0]).toMatchObject({
      action: 'https://app.example/voice/done',
      method: 'GET',
      timeout: 0,
      finishOnKey: '',
      maxLength: 30,
      playBeep: false,
      trim: 'do-not-trim',
      recordingStatusCallback: 'https://app.example/rs',
      recordingStatusCallbackMethod: 'GET',
      recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
    });
  });

  it('names transcription, which Conclave does not offer, in a warning', () => {
    expect(one('<Record transcribe="true" transcribeCallback="https://app/t"/>').warnings.join('\n')).toMatch(/transcribe="true" was ignored.*\n.*transcribeCallback/);
  });

  it.each([['<Record finishOnKey="x"/>', 'finishOnKey'], ['<Record maxLength="0"/>', 'maxLength'], ['<Record timeout="-1"/>', 'timeout'], ['<Record><Say>hi</Say></Record>', 'Say']])('refuses %s', (xml, named) => {
    expect(() => one(xml)).toThrow(named);
  });
});
