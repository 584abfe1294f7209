/**
 * parseTwiml: every verb Conclave runs, every attribute of `<Conference>` with its default,
 * whitespace and entity handling, and the errors — malformed XML and a wrong root are 12100,
 * unsupported verbs and bad attribute values 12200 with a message naming element and attribute.
 */
import { describe, expect, it } from 'vitest';
import { parseTwiml } from '../../src/twiml/parse-twiml.js';
import { TwimlError } from '../../src/twiml/twiml-error.js';
import type { ConferenceNoun, DialVerb, TwimlVerb } from '../../src/twiml/verbs.js';

const CALL_SID = 'CA0123456789abcdef0123456789abcdef';

function verbs(body: string): readonly TwimlVerb[] {
  return parseTwiml(`<Response>${body}</Response>`).verbs;
}

function only<T extends TwimlVerb['verb']>(body: string, verb: T): Extract<TwimlVerb, { verb: T }> {
  const parsed = verbs(body);
  expect(parsed).toHaveLength(1);
  expect(parsed[0]!.verb).toBe(verb);
  return parsed[0] as Extract<TwimlVerb, { verb: T }>;
}

function conference(attributes: string, name = 'Room'): ConferenceNoun {
  const dial = only(`<Dial><Conference ${attributes}>${name}</Conference></Dial>`, 'Dial');
  expect(dial.endpoints).toEqual([]);
  return dial.conference!;
}

/** Parses and returns the TwimlError thrown; fails the test if none is. */
function failure(xml: string): TwimlError {
  try {
    parseTwiml(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(TwimlError);
    return error as TwimlError;
  }
  throw new Error(`expected a TwimlError for ${xml}`);
}

function bodyFailure(body: string): TwimlError {
  return failure(`<Response>${body}</Response>`);
}

describe('document', () => {
  it('accepts an empty <Response/> and <Response></Response>', () => {
    expect(parseTwiml('<Response/>')).toEqual({ verbs: [], warnings: [] });
    expect(parseTwiml('<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n</Response>\n').verbs).toEqual([]);
  });

  it('keeps the order of verbs, including repeated ones', () => {
    const parsed = verbs('<Say>one</Say><Pause/><Say>two</Say><Play>http://h/a.wav</Play><Say>three</Say><Hangup/>');
    expect(parsed.map((verb) => verb.verb)).toEqual(['Say', 'Pause', 'Say', 'Play', 'Say', 'Hangup']);
    expect(parsed.filter((verb) => verb.verb === 'Say').map((verb) => (verb as { text: string }).text)).toEqual([
      'one',
      'two',
      'three',
    ]);
  });

  it('ignores comments, processing instructions, a BOM and whitespace between verbs', () => {
    const xml = '\uFEFF<?xml version="1.0"?>\n<!-- greeting -->\n<Response>\n  <!-- c -->\n  <Say>hi</Say>\n\n  <?pi x?>\n  <Hangup />\n</Response>\n';
    const parsed = parseTwiml(xml);
    expect(parsed.verbs.map((verb) => verb.verb)).toEqual(['Say', 'Hangup']);
    expect(parsed.warnings).toEqual([]);
  });

  it('decodes entities, numeric references and CDATA in text and attributes', () => {
    const [say, play] = verbs(
      '<Say voice="Polly.L&#233;a">Tom &amp; Jerry &lt;3 &#233;&#x41; &quot;q&quot; &apos;a&apos;</Say>' +
        '<Play><![CDATA[https://h/a.mp3?x=1&y=<2>]]></Play>',
    );
    expect(say).toMatchObject({ verb: 'Say', text: 'Tom & Jerry <3 éA "q" \'a\'', voice: 'Polly.Léa' });
    expect(play).toMatchObject({ verb: 'Play', url: 'https://h/a.mp3?x=1&y=<2>' });
  });

  it.each([
    ['', 'empty'],
    ['   \n ', 'empty'],
    ['not xml at all', 'not well-formed'],
    ['<Response><Say>hi</Response>', "Expected closing tag 'Say'"],
    ['<Response><Say a="1" a="2">x</Say></Response>', "Attribute 'a' is repeated"],
    ['<Response><Say loud>x</Say></Response>', "attribute 'loud' is not allowed"],
    ['<Response>', 'not well-formed'],
  ])('rejects malformed XML %j with 12100', (xml, part) => {
    const error = failure(xml);
    expect(error.code).toBe(12100);
    expect(error.message).toContain(part);
  });

  it('says where malformed XML breaks', () => {
    expect(failure('<Response>\n<Say>hi</Sey>\n</Response>').message).toMatch(/line 2/);
  });

  it.each([
    ['<response/>', 'must be <Response>, found <response>'],
    ['<TwiML><Say>x</Say></TwiML>', 'must be <Response>, found <TwiML>'],
    ['<Response/><Response/>', 'exactly one root element'],
  ])('rejects a wrong root %j with 12100', (xml, part) => {
    const error = failure(xml);
    expect(error.code).toBe(12100);
    expect(error.message).toContain(part);
  });

  it.each(['Enqueue', 'Leave', 'Connect', 'Start', 'Stop', 'Pay', 'Refer', 'Message', 'Sms', 'Echo'])(
    'refuses <%s> as not supported by Conclave (12200)',
    (verb) => {
      const error = bodyFailure(`<Say>first</Say><${verb}>x</${verb}>`);
      expect(error.code).toBe(12200);
      expect(error.message).toContain(`<${verb}> is not supported by Conclave`);
      expect(error.element).toBe(verb);
      expect(error.path).toBe(`Response/${verb}`);
    },
  );

  it('refuses unknown elements and hints at case mistakes', () => {
    expect(bodyFailure('<Dance/>').message).toContain('<Dance> is not a TwiML verb');
    expect(bodyFailure('<say>x</say>').message).toContain('did you mean <Say>?');
    expect(bodyFailure('<Conference>x</Conference>').message).toContain('<Conference> must be inside <Dial>');
  });

  it('warns about stray text in <Response> and attributes on it', () => {
    const parsed = parseTwiml('<Response lang="x">hello<Hangup/></Response>');
    expect(parsed.verbs).toEqual([{ verb: 'Hangup' }]);
    expect(parsed.warnings).toHaveLength(2);
    expect(parsed.warnings.join('\n')).toContain('text "hello"');
  });

  it('names the verb position when a verb repeats', () => {
    const error = bodyFailure('<Pause/><Pause length="soon"/>');
    expect(error.path).toBe('Response/Pause[2]');
    expect(error.message).toContain('(at Response/Pause[2])');
  });
});

describe('<Dial>', () => {
  it('applies Twilio defaults', () => {
    const dial = only('<Dial><Number>+15551230000</Number></Dial>', 'Dial');
    expect(dial).toEqual<DialVerb>({
      verb: 'Dial',
      action: undefined,
      method: 'POST',
      timeout: 30,
      hangupOnStar: false,
      timeLimit: 14_400,
      callerId: undefined,
      answerOnBridge: false,
      record: 'do-not-record',
      trim: 'trim-silence',
      recordingStatusCallback: undefined,
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: ['completed'],
      ringTone: undefined,
      conference: undefined,
      endpoints: [
        {
          noun: 'Number',
          number: '+15551230000',
          sendDigits: undefined,
          url: undefined,
          method: 'POST',
          statusCallback: undefined,
          statusCallbackEvent: ['completed'],
          statusCallbackMethod: 'POST',
        },
      ],
    });
  });

  it('reads every attribute', () => {
    const dial = only(
      '<Dial action="https://app/after" method="get" timeout="20" hangupOnStar="TRUE" timeLimit="600" ' +
        'callerId="+15550001111" answerOnBridge="true" record="record-from-answer-dual" trim="do-not-trim" ' +
        'recordingStatusCallback="https://app/rec" recordingStatusCallbackMethod="GET" ' +
        'recordingStatusCallbackEvent="in-progress completed absent" ringTone="uk">+15551230000</Dial>',
      'Dial',
    );
    expect(dial).toMatchObject({
      action: 'https://app/after',
      method: 'GET',
      timeout: 20,
      hangupOnStar: true,
      timeLimit: 600,
      callerId: '+15550001111',
      answerOnBridge: true,
      record: 'record-from-answer-dual',
      trim: 'do-not-trim',
      recordingStatusCallback: 'https://app/rec',
      recordingStatusCallbackMethod: 'GET',
      recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
      ringTone: 'uk',
    });
    expect(parseTwiml('<Response><Dial>1</Dial></Response>').warnings).toEqual([]);
  });

  it('names each attribute it reads but does not act on yet, once, and none that asks for nothing', () => {
    const ignored = (xml: string): (string | undefined)[] => parseTwiml(`<Response>${xml}</Response>`).warnings.map((w) => /<(\w+)> attribute (\w+)=/.exec(w)?.slice(1).join('.'));
    expect(
      ignored(
        '<Dial hangupOnStar="TRUE" record="record-from-answer" trim="do-not-trim" recordingStatusCallback="https://app/rec" ringTone="uk">' +
          '<Number sendDigits="ww1#" url="https://app/whisper" method="GET">+15551230000</Number><Sip url="https://app/w">sip:a@192.0.2.1</Sip></Dial>' +
          '<Play digits="1234"/>',
      ),
    ).toEqual(['Dial.ringTone']);
    expect(ignored('<Dial hangupOnStar="false" record="do-not-record">1</Dial><Dial><Conference record="do-not-record">r</Conference></Dial>')).toEqual([]);
  });

  it('treats bare text as one number, trimmed', () => {
    const dial = only('<Dial>\n   +15551230000  \n</Dial>', 'Dial');
    expect(dial.endpoints).toHaveLength(1);
    expect(dial.endpoints[0]).toMatchObject({ noun: 'Number', number: '+15551230000' });
  });

  it('accepts the legacy record="true"', () => {
    expect(only('<Dial record="true">1</Dial>', 'Dial').record).toBe('record-from-answer');
    expect(only('<Dial record="false">1</Dial>', 'Dial').record).toBe('do-not-record');
  });

  it('brings a positive timeout into 5–600 with a warning', () => {
    const parsed = parseTwiml('<Response><Dial timeout="2">1</Dial><Dial timeout="9000">1</Dial></Response>');
    expect(parsed.verbs.map((verb) => (verb as DialVerb).timeout)).toEqual([5, 600]);
    expect(parsed.warnings).toHaveLength(2);
    expect(parsed.warnings[0]).toContain('timeout="2"');
  });

  it('reads <Number>, <Sip> and <Client> with their attributes, in order', () => {
    const dial = only(
      '<Dial>' +
        '<Number sendDigits="ww1234#" url="https://app/whisper" method="GET" statusCallback="https://app/s" ' +
        'statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="GET">+15551230000</Number>' +
        '<Sip username="u" password="p">sip:alice@example.com;transport=tcp</Sip>' +
        '<Client>bob</Client>' +
        '<Client><Identity>carol</Identity><Parameter name="k" value="v &amp; w"/></Client>' +
        '</Dial>',
      'Dial',
    );
    expect(dial.conference).toBeUndefined();
    expect(dial.endpoints).toEqual([
      {
        noun: 'Number',
        number: '+15551230000',
        sendDigits: 'ww1234#',
        url: 'https://app/whisper',
        method: 'GET',
        statusCallback: 'https://app/s',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        statusCallbackMethod: 'GET',
      },
      expect.objectContaining({ noun: 'Sip', uri: 'sip:alice@example.com;transport=tcp', username: 'u', password: 'p' }),
      expect.objectContaining({ noun: 'Client', identity: 'bob', parameters: [] }),
      expect.objectContaining({ noun: 'Client', identity: 'carol', parameters: [{ name: 'k', value: 'v & w' }] }),
    ]);
  });

  it.each([
    ['<Dial></Dial>', '<Dial> has no <Conference>, <Number>, <Sip> or <Client>'],
    ['<Dial>  \n </Dial>', '<Dial> has no <Conference>, <Number>, <Sip> or <Client>'],
    ['<Dial>+1555<Number>+1666</Number></Dial>', 'mixes text'],
    ['<Dial><Conference>a</Conference><Number>1</Number></Dial>', 'must contain nothing else'],
    ['<Dial><Conference>a</Conference><Conference>b</Conference></Dial>', 'must contain nothing else'],
    ['<Dial><Queue>support</Queue></Dial>', '<Dial><Queue> is not supported by Conclave'],
    ['<Dial><Say>x</Say></Dial>', '<Say> is not allowed in <Dial>'],
    ['<Dial><Number></Number></Dial>', '<Number> has no number'],
    ['<Dial><Number sendDigits="12a">1</Number></Dial>', 'sendDigits="12a"'],
    ['<Dial><Sip>alice@example.com</Sip></Dial>', 'is not a SIP URI'],
    ['<Dial><Client></Client></Dial>', '<Client> has no identity'],
    ['<Dial><Number statusCallbackEvent="answered hungup">1</Number></Dial>', 'contains "hungup"'],
    ['<Dial>' + '<Number>1</Number>'.repeat(11) + '</Dial>', 'at most 10'],
    ['<Dial timeout="soon">1</Dial>', 'timeout="soon" is invalid: it must be a whole number'],
    ['<Dial timeout="0">1</Dial>', 'timeout="0" is invalid: it must be at least 1'],
    ['<Dial timeout="2.5">1</Dial>', 'must be a whole number'],
    ['<Dial method="PUT">1</Dial>', 'method="PUT" is invalid: it must be one of GET, POST'],
    ['<Dial hangupOnStar="yes">1</Dial>', 'hangupOnStar="yes" is invalid: it must be true or false'],
    ['<Dial record="always">1</Dial>', 'record="always"'],
    ['<Dial action="ftp://h/x">1</Dial>', 'must be an http or https URL'],
  ])('rejects %s', (body, part) => {
    const error = bodyFailure(body);
    expect(error.code).toBe(12200);
    expect(error.message).toContain(part);
  });

  it('names element and attribute on a bad value', () => {
    const error = bodyFailure('<Dial timeLimit="forever">1</Dial>');
    expect(error).toMatchObject({ element: 'Dial', attribute: 'timeLimit', path: 'Response/Dial' });
  });
});

describe('<Conference>', () => {
  it('applies every default', () => {
    expect(conference('')).toEqual<ConferenceNoun>({
      noun: 'Conference',
      name: 'Room',
      muted: false,
      beep: 'true',
      startConferenceOnEnter: true,
      endConferenceOnExit: false,
      waitUrl: undefined,
      waitMethod: 'POST',
      maxParticipants: 250,
      record: 'do-not-record',
      trim: 'trim-silence',
      region: undefined,
      coach: undefined,
      participantLabel: undefined,
      jitterBufferSize: 'large',
      statusCallback: undefined,
      statusCallbackEvent: [],
      statusCallbackMethod: 'POST',
      recordingStatusCallback: undefined,
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: ['completed'],
      eventCallbackUrl: undefined,
    });
  });

  it('reads every attribute', () => {
    const parsed = parseTwiml(
      '<Response><Dial><Conference muted="true" beep="onExit" startConferenceOnEnter="false" ' +
        'endConferenceOnExit="True" waitUrl="https://app/hold.xml" waitMethod="GET" maxParticipants="10" ' +
        'record="record-from-start" trim="do-not-trim" region="ie1" coach="' +
        CALL_SID +
        '" participantLabel="customer" jitterBufferSize="small" statusCallback="https://app/conf" ' +
        'statusCallbackEvent="start end join leave mute hold modify speaker announcement" statusCallbackMethod="GET" ' +
        'recordingStatusCallback="https://app/rec" recordingStatusCallbackMethod="GET" ' +
        'recordingStatusCallbackEvent="in-progress absent" eventCallbackUrl="https://app/ended">Sales</Conference>' +
        '</Dial></Response>',
    );
    // Read and checked, but not acted on yet: one warning naming each, never silence.
    const ignored = parsed.warnings.map((w) => /attribute (\w+)=/.exec(w)?.[1]);
    expect(ignored).toEqual(['eventCallbackUrl', 'jitterBufferSize']);
    expect((parsed.verbs[0] as DialVerb).conference).toEqual<ConferenceNoun>({
      noun: 'Conference',
      name: 'Sales',
      muted: true,
      beep: 'onExit',
      startConferenceOnEnter: false,
      endConferenceOnExit: true,
      waitUrl: 'https://app/hold.xml',
      waitMethod: 'GET',
      maxParticipants: 10,
      record: 'record-from-start',
      trim: 'do-not-trim',
      region: 'ie1',
      coach: CALL_SID,
      participantLabel: 'customer',
      jitterBufferSize: 'small',
      statusCallback: 'https://app/conf',
      statusCallbackEvent: ['start', 'end', 'join', 'leave', 'mute', 'hold', 'modify', 'speaker', 'announcement'],
      statusCallbackMethod: 'GET',
      recordingStatusCallback: 'https://app/rec',
      recordingStatusCallbackMethod: 'GET',
      recordingStatusCallbackEvent: ['in-progress', 'absent'],
      eventCallbackUrl: 'https://app/ended',
    });
  });

  it.each([
    ['true', 'true'],
    ['FALSE', 'false'],
    ['onEnter', 'onEnter'],
    ['onenter', 'onEnter'],
    ['onExit', 'onExit'],
  ])('reads beep="%s" as %s', (value, expected) => {
    expect(conference(`beep="${value}"`).beep).toBe(expected);
  });

  it('reads waitUrl="" as no music, distinct from the default', () => {
    expect(conference('waitUrl=""').waitUrl).toBe('');
    expect(conference('waitUrl="  "').waitUrl).toBe('');
    expect(conference('').waitUrl).toBeUndefined();
  });

  it('keeps subscribed events in order, once each, and accepts any spacing', () => {
    expect(conference('statusCallbackEvent="  join   leave join\tstart "').statusCallbackEvent).toEqual([
      'join',
      'leave',
      'start',
    ]);
  });

  it('trims the room name and decodes entities in it', () => {
    expect(conference('', '\n    Tom &amp; Jerry  \n').name).toBe('Tom & Jerry');
    expect(conference('', '<![CDATA[ A<B ]]>').name).toBe('A<B');
  });

  it('accepts maxParticipants from 2 to 250', () => {
    expect(conference('maxParticipants="2"').maxParticipants).toBe(2);
    expect(conference('maxParticipants="250"').maxParticipants).toBe(250);
  });

  it.each([
    ['', 'has no room name'],
    ['   ', 'has no room name'],
  ])('rejects the room name %j', (name, part) => {
    const error = bodyFailure(`<Dial><Conference>${name}</Conference></Dial>`);
    expect(error.code).toBe(12200);
    expect(error.message).toContain(part);
  });

  it.each([
    ['muted="yes"', 'muted', 'must be true or false'],
    ['beep="loud"', 'beep', 'must be one of true, false, onEnter, onExit'],
    ['startConferenceOnEnter="1"', 'startConferenceOnEnter', 'must be true or false'],
    ['endConferenceOnExit=""', 'endConferenceOnExit', 'must be true or false'],
    ['waitMethod="PATCH"', 'waitMethod', 'must be one of GET, POST'],
    ['waitUrl="javascript:alert(1)"', 'waitUrl', 'http or https'],
    ['maxParticipants="1"', 'maxParticipants', 'between 2 and 250'],
    ['maxParticipants="251"', 'maxParticipants', 'between 2 and 250'],
    ['maxParticipants="ten"', 'maxParticipants', 'whole number'],
    ['record="true"', 'record', 'do-not-record, record-from-start'],
    ['trim="some"', 'trim', 'trim-silence, do-not-trim'],
    ['region="mars1"', 'region', 'us1, us2, ie1'],
    ['coach="CF0123456789abcdef0123456789abcdef"', 'coach', 'must be a call SID'],
    ['jitterBufferSize="huge"', 'jitterBufferSize', 'large, medium, small, off'],
    ['statusCallback="http://"', 'statusCallback', 'is not a valid URL'],
    ['statusCallbackEvent="start finish"', 'statusCallbackEvent', 'contains "finish"'],
    ['statusCallbackMethod="DELETE"', 'statusCallbackMethod', 'GET, POST'],
    ['recordingStatusCallbackMethod="x"', 'recordingStatusCallbackMethod', 'GET, POST'],
    ['recordingStatusCallbackEvent="done"', 'recordingStatusCallbackEvent', 'in-progress completed absent'],
  ])('rejects %s naming the attribute and element', (attribute, name, part) => {
    const error = bodyFailure(`<Dial><Conference ${attribute}>Room</Conference></Dial>`);
    expect(error.code).toBe(12200);
    expect(error.element).toBe('Conference');
    expect(error.attribute).toBe(name);
    expect(error.message).toContain(`<Conference> attribute ${name}=`);
    expect(error.message).toContain(part);
    expect(error.message).toContain('(at Response/Dial/Conference)');
  });

  it('refuses elements inside <Conference>', () => {
    expect(bodyFailure('<Dial><Conference>Room<Say>x</Say></Conference></Dial>').message).toContain(
      '<Conference> cannot contain <Say>',
    );
  });

  it('warns about unknown attributes, hinting at case mistakes', () => {
    const parsed = parseTwiml(
      '<Response><Dial><Conference StartConferenceOnEnter="false" foo="1">Room</Conference></Dial></Response>',
    );
    const noun = (parsed.verbs[0] as DialVerb).conference!;
    expect(noun.startConferenceOnEnter).toBe(true);
    expect(parsed.warnings).toHaveLength(2);
    expect(parsed.warnings[0]).toContain('did you mean "startConferenceOnEnter"?');
  });
});

describe('other verbs', () => {
  it('<Play>: URL, loop, digits and defaults', () => {
    expect(only('<Play> https://h/a.mp3 </Play>', 'Play')).toEqual({ verb: 'Play', url: 'https://h/a.mp3', loop: 1, digits: undefined });
    expect(only('<Play loop="0">https://h/a.mp3</Play>', 'Play').loop).toBe(0);
    expect(only('<Play digits="ww12#*"/>', 'Play')).toEqual({ verb: 'Play', url: undefined, loop: 1, digits: 'ww12#*' });
    expect(bodyFailure('<Play/>').message).toContain('<Play> has no URL');
    expect(bodyFailure('<Play loop="-1">https://h/a</Play>').message).toContain('loop="-1"');
    expect(bodyFailure('<Play loop="1001">https://h/a</Play>').message).toContain('between 0 and 1000');
    expect(bodyFailure('<Play digits="12x"/>').message).toContain('digits="12x"');
    expect(bodyFailure('<Play>mailto:a@b</Play>').message).toContain('<Play> URL "mailto:a@b"');
  });

  it('<Pause>: length, default 1', () => {
    expect(only('<Pause/>', 'Pause')).toEqual({ verb: 'Pause', length: 1 });
    expect(only('<Pause length=" 7 "/>', 'Pause')).toEqual({ verb: 'Pause', length: 7 });
    expect(bodyFailure('<Pause length="0"/>').attribute).toBe('length');
    expect(bodyFailure('<Pause length="1s"/>').message).toContain('<Pause> attribute length="1s" is invalid');
  });

  it('<Say>: text, voice, language, loop; SSML text is kept and whitespace collapsed', () => {
    expect(only('<Say>Hello</Say>', 'Say')).toEqual({ verb: 'Say', text: 'Hello', voice: 'man', language: 'en-US', loop: 1 });
    expect(only('<Say voice="woman" language="fr-FR" loop="3">Bonjour</Say>', 'Say')).toMatchObject({
      voice: 'woman',
      language: 'fr-FR',
      loop: 3,
    });
    expect(only('<Say>\n  Hello <break time="1s"/><emphasis>big</emphasis>\n  world\n</Say>', 'Say').text).toBe(
      'Hello big world',
    );
    expect(bodyFailure('<Say loop="twice">x</Say>').attribute).toBe('loop');
  });

  it('<Say/> with no text is accepted with a warning', () => {
    const parsed = parseTwiml('<Response><Say/></Response>');
    expect(parsed.verbs).toEqual([{ verb: 'Say', text: '', voice: 'man', language: 'en-US', loop: 1 }]);
    expect(parsed.warnings[0]).toContain('<Say> has no text');
  });

  it('<Hangup>', () => {
    expect(only('<Hangup/>', 'Hangup')).toEqual({ verb: 'Hangup' });
    expect(bodyFailure('<Hangup><Say>x</Say></Hangup>').message).toContain('<Hangup> cannot contain <Say>');
  });

  it('<Redirect>: URL and method', () => {
    expect(only('<Redirect>https://app/next</Redirect>', 'Redirect')).toEqual({
      verb: 'Redirect',
      url: 'https://app/next',
      method: 'POST',
    });
    expect(only('<Redirect method="get">/next?x=1</Redirect>', 'Redirect')).toEqual({
      verb: 'Redirect',
      url: '/next?x=1',
      method: 'GET',
    });
    // Empty: the current document, fetched again (Twilio's loop idiom).
    expect(only('<Redirect/>', 'Redirect')).toEqual({ verb: 'Redirect', url: undefined, method: 'POST' });
  });

  it('<Reject>: reason, default rejected', () => {
    expect(only('<Reject/>', 'Reject')).toEqual({ verb: 'Reject', reason: 'rejected' });
    expect(only('<Reject reason="busy"/>', 'Reject')).toEqual({ verb: 'Reject', reason: 'busy' });
    expect(bodyFailure('<Reject reason="nope"/>').message).toContain('must be one of rejected, busy');
  });
});

describe('relative URLs', () => {
  const xml =
    '<Response><Play>hold.wav</Play><Dial action="/after"><Conference waitUrl="../music/wait.xml" ' +
    'statusCallback="events?room=1">Room</Conference></Dial><Redirect>https://other/abs</Redirect></Response>';

  it('are kept as written without a document URL', () => {
    const [play, dial] = parseTwiml(xml).verbs as [TwimlVerb, DialVerb];
    expect(play).toMatchObject({ url: 'hold.wav' });
    expect(dial.action).toBe('/after');
    expect(dial.conference).toMatchObject({ waitUrl: '../music/wait.xml', statusCallback: 'events?room=1' });
  });

  it('are resolved against the document URL when given', () => {
    const [play, dial, redirect] = parseTwiml(xml, { documentUrl: 'https://app.example/voice/answer?x=1' }).verbs as [
      TwimlVerb,
      DialVerb,
      TwimlVerb,
    ];
    expect(play).toMatchObject({ url: 'https://app.example/voice/hold.wav' });
    expect(dial.action).toBe('https://app.example/after');
    expect(dial.conference).toMatchObject({
      waitUrl: 'https://app.example/music/wait.xml',
      statusCallback: 'https://app.example/voice/events?room=1',
    });
    expect(redirect).toMatchObject({ url: 'https://other/abs' });
  });
});
