/**
 * The typed result of parsing a TwiML voice document: the verbs Conclave runs, in document
 * order, with every attribute converted to camelCase fields of the right type and Twilio's
 * documented defaults already applied (so executors never re-derive a default).
 *
 * Verbs and attributes follow https://www.twilio.com/docs/voice/twiml and the attribute types of
 * twilio-node `src/twiml/VoiceResponse.ts`; the `<Conference>` noun follows
 * https://www.twilio.com/docs/voice/twiml/conference. URLs are kept as written in the document
 * unless `parseTwiml` was given the document's URL, in which case they are absolute.
 */

export type HttpMethod = 'GET' | 'POST';

export interface TwimlDocument {
  readonly verbs: readonly TwimlVerb[];
  /**
   * Things Twilio would report as 12200 warnings but that do not stop the call: unknown or
   * ignored attributes, stray text. Worth logging; never fatal.
   */
  readonly warnings: readonly string[];
}

export type TwimlVerb = DialVerb | GatherVerb | RecordVerb | PlayVerb | PauseVerb | SayVerb | HangupVerb | RedirectVerb | RejectVerb;

export type DialRecord =
  | 'do-not-record'
  | 'record-from-answer'
  | 'record-from-ringing'
  | 'record-from-answer-dual'
  | 'record-from-ringing-dual';
export type Trim = 'trim-silence' | 'do-not-trim';
export type RecordingEvent = 'in-progress' | 'completed' | 'absent';

export interface DialVerb {
  readonly verb: 'Dial';
  /** Where to send the caller when the dialled party hangs up; absent = continue the document. */
  readonly action: string | undefined;
  /** Default POST. */
  readonly method: HttpMethod;
  /** Ring timeout in seconds, 5–600, default 30. */
  readonly timeout: number;
  /** Default false. */
  readonly hangupOnStar: boolean;
  /** Maximum call length in seconds, default 14400 (4 hours), at most 86400. */
  readonly timeLimit: number;
  readonly callerId: string | undefined;
  /** Default false. */
  readonly answerOnBridge: boolean;
  /** Default `do-not-record`. */
  readonly record: DialRecord;
  /** Default `trim-silence`. */
  readonly trim: Trim;
  readonly recordingStatusCallback: string | undefined;
  /** Default POST. */
  readonly recordingStatusCallbackMethod: HttpMethod;
  /** Default `['completed']`. */
  readonly recordingStatusCallbackEvent: readonly RecordingEvent[];
  /** Country code of the ringback tone, e.g. `us`, `uk`; absent = Conclave's default. */
  readonly ringTone: string | undefined;
  /** The `<Conference>` to join; when present, `endpoints` is empty (it is never mixed). */
  readonly conference: ConferenceNoun | undefined;
  /**
   * When there is no conference: 1–10 `<Number>`/`<Sip>`/`<Client>` to ring together, first to
   * answer wins. Bare text in `<Dial>` is one `<Number>`.
   */
  readonly endpoints: readonly DialEndpointNoun[];
}

export type DialNoun = ConferenceNoun | DialEndpointNoun;
export type DialEndpointNoun = NumberNoun | SipNoun | ClientNoun;

export type ConferenceBeep = 'true' | 'false' | 'onEnter' | 'onExit';
export type ConferenceEventName =
  | 'start'
  | 'end'
  | 'join'
  | 'leave'
  | 'mute'
  | 'hold'
  | 'modify'
  | 'speaker'
  | 'announcement';
export type ConferenceRecord = 'do-not-record' | 'record-from-start';
export type ConferenceRegion = 'us1' | 'us2' | 'ie1' | 'sg1' | 'br1' | 'au1' | 'jp1' | 'de1';
export type JitterBufferSize = 'large' | 'medium' | 'small' | 'off';

export interface ConferenceNoun {
  readonly noun: 'Conference';
  /** The room name: the element's text, trimmed, never empty. Namespaced to the account. */
  readonly name: string;
  /** Default false. */
  readonly muted: boolean;
  /** Default `'true'`. */
  readonly beep: ConferenceBeep;
  /** Default true. */
  readonly startConferenceOnEnter: boolean;
  /** Default false. */
  readonly endConferenceOnExit: boolean;
  /** TwiML or audio URL played while waiting; `''` = silence; absent = Conclave's default music. */
  readonly waitUrl: string | undefined;
  /** Default POST. */
  readonly waitMethod: HttpMethod;
  /** 2–250, default 250. */
  readonly maxParticipants: number;
  /** Default `do-not-record`. */
  readonly record: ConferenceRecord;
  /** Default `trim-silence`. */
  readonly trim: Trim;
  readonly region: ConferenceRegion | undefined;
  /** Call SID (CA…) of the participant this one coaches. */
  readonly coach: string | undefined;
  readonly participantLabel: string | undefined;
  /** Default `large`. */
  readonly jitterBufferSize: JitterBufferSize;
  readonly statusCallback: string | undefined;
  /** Subscribed events, in document order without duplicates; `[]` when the attribute is absent. */
  readonly statusCallbackEvent: readonly ConferenceEventName[];
  /** Default POST. */
  readonly statusCallbackMethod: HttpMethod;
  readonly recordingStatusCallback: string | undefined;
  /** Default POST. */
  readonly recordingStatusCallbackMethod: HttpMethod;
  /** Default `['completed']`. */
  readonly recordingStatusCallbackEvent: readonly RecordingEvent[];
  /** Legacy: POSTed when the conference ends. */
  readonly eventCallbackUrl: string | undefined;
}

export type CallProgressEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** What `<Number>`, `<Sip>` and `<Client>` share. */
interface EndpointNounBase {
  /** TwiML run on the called party before it is bridged ("whisper"). */
  readonly url: string | undefined;
  /** Default POST. */
  readonly method: HttpMethod;
  readonly statusCallback: string | undefined;
  /** Default `['completed']`. */
  readonly statusCallbackEvent: readonly CallProgressEvent[];
  /** Default POST. */
  readonly statusCallbackMethod: HttpMethod;
}

export interface NumberNoun extends EndpointNounBase {
  readonly noun: 'Number';
  /** The number as written, trimmed, e.g. `+15551234567`. */
  readonly number: string;
  /** DTMF to send once answered, before the bridge: 0–9, `*`, `#`, A–D, `w`/`W` (½ s/1 s pause). */
  readonly sendDigits: string | undefined;
}

export interface SipNoun extends EndpointNounBase {
  readonly noun: 'Sip';
  /** A `sip:` or `sips:` URI. */
  readonly uri: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

export interface ClientNoun extends EndpointNounBase {
  readonly noun: 'Client';
  /** The client identity: the text, or the `<Identity>` child. */
  readonly identity: string;
  /** `<Parameter name value/>` children, in order. */
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
}

export interface PlayVerb {
  readonly verb: 'Play';
  /** Audio URL; absent when the verb only sends `digits`. */
  readonly url: string | undefined;
  /** Times to play; 0 = repeat until the call moves on. Default 1. */
  readonly loop: number;
  /** DTMF to play instead of audio: 0–9, `*`, `#`, A–D, `w`/`W` (½ s/1 s pause). */
  readonly digits: string | undefined;
}

export interface PauseVerb {
  readonly verb: 'Pause';
  /** Seconds, default 1. */
  readonly length: number;
}

export interface SayVerb {
  readonly verb: 'Say';
  /** The text to speak, trimmed; SSML child elements contribute their text. */
  readonly text: string;
  /** Default `man`. */
  readonly voice: string;
  /** Default `en-US`. */
  readonly language: string;
  /** Default 1; 0 = repeat until the call moves on. */
  readonly loop: number;
}

export interface HangupVerb {
  readonly verb: 'Hangup';
}

export interface RedirectVerb {
  readonly verb: 'Redirect';
  /** Where to go; absent (an empty `<Redirect/>`): the current document, fetched again. */
  readonly url: string | undefined;
  /** Default POST. */
  readonly method: HttpMethod;
}

export interface RejectVerb {
  readonly verb: 'Reject';
  /** Default `rejected`. */
  readonly reason: 'rejected' | 'busy';
}

/** What `<Gather>` plays while it waits for keys (https://www.twilio.com/docs/voice/twiml/gather#nest-other-verbs). */
export type GatherPrompt = SayVerb | PlayVerb | PauseVerb;

/** The kinds of input `<Gather input>` names; Conclave gathers `dtmf` only. */
export type GatherInput = 'dtmf' | 'speech';

export interface GatherVerb {
  readonly verb: 'Gather';
  /** Where the keys go; absent = the current document's URL (Twilio's default). */
  readonly action: string | undefined;
  /** Default POST. */
  readonly method: HttpMethod;
  /** Seconds to wait after the prompts end and between keys; default 5. */
  readonly timeout: number;
  /** The key that ends input (not part of `Digits`); `''` = none. Default `#`. */
  readonly finishOnKey: string;
  /** Input ends once this many keys are in; absent = unlimited. */
  readonly numDigits: number | undefined;
  /** Request the action even with no keys (`Digits` empty); default false. */
  readonly actionOnEmptyResult: boolean;
  /** Default `['dtmf']`. */
  readonly input: readonly GatherInput[];
  /** Nested `<Say>`, `<Play>`, `<Pause>`, in order; the first key cuts them short. */
  readonly prompts: readonly GatherPrompt[];
}

/** `<Record>`: voicemail-style recording of what the caller says (https://www.twilio.com/docs/voice/twiml/record). */
export interface RecordVerb {
  readonly verb: 'Record';
  /** Where the recording goes; absent = the current document's URL. */
  readonly action: string | undefined;
  /** Default POST. */
  readonly method: HttpMethod;
  /** Seconds of silence that end it; default 5; 0 = silence never ends it. */
  readonly timeout: number;
  /** Keys that end it (not kept in the audio); default `1234567890*#`; `''` = none. */
  readonly finishOnKey: string;
  /** Longest recording in seconds; default 3600. */
  readonly maxLength: number;
  /** A beep before it starts; default true. */
  readonly playBeep: boolean;
  /** Default `trim-silence`. */
  readonly trim: Trim;
  readonly recordingStatusCallback: string | undefined;
  /** Default POST. */
  readonly recordingStatusCallbackMethod: HttpMethod;
  /** Default `['completed']`. */
  readonly recordingStatusCallbackEvent: readonly RecordingEvent[];
}
