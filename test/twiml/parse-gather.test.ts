/**
 * `<Gather>` parsing: Twilio's defaults, nested prompts, the finish key (empty allowed), and
 * what Conclave cannot do (speech) said plainly — refused alone, warned about beside dtmf.
 */
import { describe, expect, it } from 'vitest';
import { parseTwiml } from '../../src/twiml/parse-twiml.js';
import { TwimlError } from '../../src/twiml/twiml-error.js';

const one = (inner: string, documentUrl?: string) => parseTwiml(`<Response>${inner}</Response>`, documentUrl ? { documentUrl } : {});

describe('<Gather>', () => {
  it("applies Twilio's defaults", () => {
    expect(one('<Gather/>').verbs[0]).toEqual({
      verb: 'Gather',
      action: undefined,
      method: 'POST',
      timeout: 5,
      finishOnKey: '#',
      numDigits: undefined,
      actionOnEmptyResult: false,
      input: ['dtmf'],
      prompts: [],
    });
  });

  it('reads every attribute and resolves the action against the document', () => {
    const { verbs, warnings } = one(
      '<Gather action="pin" method="get" timeout="9" finishOnKey="*" numDigits="4" actionOnEmptyResult="true" input="dtmf">' +
        '<Say voice="alice">Enter your PIN</Say><Play>hold.wav</Play><Pause length="2"/></Gather>',
      'https://app.example/voice/start',
    );
    expect(warnings).toEqual([]);
    expect(verbs[0]).toMatchObject({
      action: 'https://app.example/voice/pin',
      method: 'GET',
      timeout: 9,
      finishOnKey: '*',
      numDigits: 4,
      actionOnEmptyResult: true,
      prompts: [
        { verb: 'Say', text: 'Enter your PIN', voice: 'alice' },
        { verb: 'Play', url: 'https://app.example/voice/hold.wav' },
        { verb: 'Pause', length: 2 },
      ],
    });
  });

  it('an empty finishOnKey means no finish key', () => {
    expect(one('<Gather finishOnKey=""/>').verbs[0]).toMatchObject({ finishOnKey: '' });
  });

  it.each([
    ['<Gather finishOnKey="x"/>', 'finishOnKey'],
    ['<Gather finishOnKey="12"/>', 'finishOnKey'],
    ['<Gather numDigits="0"/>', 'numDigits'],
    ['<Gather numDigits="four"/>', 'numDigits'],
    ['<Gather timeout="0"/>', 'timeout'],
    ['<Gather input="video"/>', 'input'],
    ['<Gather><Dial>+15551230000</Dial></Gather>', 'Dial'],
    ['<Gather><Gather/></Gather>', 'Gather'],
  ])('refuses %s', (xml, named) => {
    expect(() => one(xml)).toThrow(TwimlError);
    expect(() => one(xml)).toThrow(named);
  });

  it('refuses input="speech" alone: nothing would ever be heard', () => {
    expect(() => one('<Gather input="speech"/>')).toThrow(/not supported.*speech recognition/);
  });

  it('gathers keys only for input="dtmf speech", and says so, naming the speech attributes', () => {
    const { verbs, warnings } = one('<Gather input="dtmf speech" speechTimeout="auto" hints="sales, support"/>');
    expect(verbs[0]).toMatchObject({ input: ['dtmf', 'speech'] });
    expect(warnings.join('\n')).toMatch(/gathers keys only/);
    expect(warnings.join('\n')).toMatch(/speechTimeout="auto" was ignored/);
    expect(warnings.join('\n')).toMatch(/hints="sales, support" was ignored/);
  });

  it('keys to send may hold A-D and the W pause in <Play digits> and <Number sendDigits>', () => {
    expect(one('<Play digits="wW12A#*"/>').verbs[0]).toMatchObject({ verb: 'Play', digits: 'wW12A#*', url: undefined });
    expect(one('<Dial><Number sendDigits="W1234#">+15551230000</Number></Dial>').warnings).toEqual([]);
    expect(() => one('<Play digits="12x"/>')).toThrow(/digits="12x" is invalid/);
  });
});
