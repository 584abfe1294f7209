/**
 * What the call engine needs from the outside: reaching endpoints, fetching TwiML, telling
 * a call's progress, and playing audio. app.ts adapts the simulated endpoints, the webhook
 * client and (later) the media plane to these.
 */
import type { Call, CallProgressEvent, HttpMethod } from './call.js';
import type { Endpoint } from './endpoint.js';
import type { VerbSummary } from './call-timeline.js';
import type { ConferenceEvent } from './events.js';
import type { Recording } from './recording.js';

/** The far end of an answered call. */
export interface RemoteLeg {
  /** Resolves when the far end hangs up by itself. */
  readonly hungUp: Promise<void>;
  /** Conclave hangs up; idempotent. */
  hangup(): void;
  /** The SIP response that answered it (200), for SIP calls. */
  readonly sipResponseCode?: number;
}

export type DialFailure = 'busy' | 'no-answer' | 'failed' | 'canceled';
/**
 * How dialling an endpoint ended. `sipResponseCode`: the final SIP response that decided it (200
 * answered, 486 busy, 487 cancelled…), for SIP endpoints; Twilio reports it as `SipResponseCode`.
 */
export type DialResult = ({ outcome: 'answered'; leg: RemoteLeg } | { outcome: DialFailure }) & { sipResponseCode?: number };

export interface DialOptions {
  /** The call being placed: its media leg carries this id. */
  callSid: string;
  /** Its account: a `client:` identity is one of that account's. */
  accountSid: string;
  /** The caller ID to present (`From`). */
  from: string;
  timeoutSeconds: number;
  signal: AbortSignal;
  onRinging: () => void;
  /** Digest credentials for a SIP endpoint that challenges (`SipAuthUsername`/`SipAuthPassword`). */
  sipAuth?: { username: string; password: string };
  /** A `<Client>`'s `<Parameter>`s, which the browser is given with the call (its `customParameters`). */
  clientParameters?: Record<string, string>;
}

export interface EndpointDialer {
  /** Rings the endpoint until it answers, refuses, the timeout passes or `signal` aborts (canceled). */
  dial(endpoint: Endpoint, options: DialOptions): Promise<DialResult>;
  /** The far end of a simulated inbound call (from a `sim:` endpoint), not yet answered. */
  inbound(from: Endpoint): InboundLeg;
  /** Whether E.164 numbers can be dialled (a carrier trunk is configured). */
  reachesNumbers(): boolean;
}

/** Why an inbound call was not answered, as the caller is told (busy: 486, no-answer: 480/603). */
export type Refusal = 'busy' | 'no-answer' | 'failed';

/** The far end of an inbound call before Conclave answers it: a ringing SIP INVITE, or a simulated caller. */
export interface InboundLeg {
  /** The caller hears ringing (180). */
  ring(): void;
  /**
   * Early media (SIP 183 with our SDP): the call's media leg, named by the CallSid, is opened and
   * the caller hears what it plays before the answer (`<Dial answerOnBridge>`'s ringback).
   * `answer` then keeps that leg. Rejects when the caller is gone.
   */
  earlyMedia(callSid: string): Promise<void>;
  /** Answers (200 OK, and a media leg named by the CallSid); rejects when the caller is gone. */
  answer(callSid: string): Promise<RemoteLeg>;
  /** A final refusal; the call is never answered. Returns the SIP status sent, for SIP callers. */
  refuse(why: Refusal): number | undefined;
  /** Resolves if the caller gives up before the answer (SIP CANCEL). */
  readonly abandoned: Promise<void>;
}

/** The outcome of a `<Dial>`, as its action URL is told (`DialCallStatus`). */
export type DialCallStatus = 'completed' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/**
 * What a `<Dial action>` request is told (https://www.twilio.com/docs/voice/twiml/dial#action):
 * always `DialCallStatus`; after `<Number>`/`<Sip>`/`<Client>` also the dialled leg
 * (`DialCallSid`), how long it was bridged (`DialCallDuration`) and whether it was
 * (`DialBridged`); after `<Conference>` nothing more, as Twilio sends neither SID nor duration there.
 */
export interface DialReport {
  status: DialCallStatus;
  /** Only when phones were dialled. */
  leg?: { callSid: string; durationSeconds: number; bridged: boolean };
  /** `<Dial record>`: the recording, ended (RecordingUrl, RecordingSid, RecordingDuration). */
  recording?: Recording;
}

/**
 * What a `<Gather>` action is told (https://www.twilio.com/docs/voice/twiml/gather#action):
 * the keys pressed without the finish key (`Digits`) and the finish key if one ended the input
 * (`FinishedOnKey`, else empty).
 */
export interface GatherReport {
  digits: string;
  finishedOnKey: string;
}

/**
 * The keypad of a call's far end: keys it presses (RFC 4733 events, in-band tones, a simulated
 * endpoint's `dtmf=`), and keys sent to it (RFC 4733 where it negotiated telephone-event,
 * in-band tones otherwise).
 */
export interface Keypad {
  /** Calls `onKey` with every key the far end of `callSid` presses from now on; returns the stop. */
  listen(callSid: string, onKey: (key: string) => void): () => void;
  /**
   * Sends keys and pauses (`w` ½ s, `W` 1 s) to the far end; resolves true once all went out,
   * false when `signal` aborted first or the call has no media leg (any more).
   */
  send(callSid: string, digits: string, signal: AbortSignal): Promise<boolean>;
}

/**
 * What a `<Record>` action is told (https://www.twilio.com/docs/voice/twiml/record#action):
 * the recording (`RecordingUrl`, `RecordingSid`, `RecordingDuration`) and the key that ended it
 * (`Digits`; `hangup` when the caller hung up; empty when silence or the length limit did).
 */
export interface RecordReport {
  recording: Recording;
  digits: string;
}

/** Talk detection on a call's leg (the mixer's, as for `speaker` events). */
export interface VoiceActivity {
  /** Calls `onChange` each time the far end of `callSid` starts or stops talking; returns the stop. */
  listen(callSid: string, onChange: (talking: boolean) => void): () => void;
}

export interface TwimlRequest {
  call: Call;
  url: string;
  method: HttpMethod;
  fallbackUrl?: string | null;
  fallbackMethod?: HttpMethod;
  /** Set when the request is a `<Dial action>`. */
  dial?: DialReport;
  /** Set when the request is a `<Gather action>`. */
  gather?: GatherReport;
  /** Set when the request is a `<Record action>`. */
  record?: RecordReport;
  /** More parameters for this request (a SIP Domain call's `SipDomain`, `SipCallId`…). */
  params?: Record<string, string>;
  /** Gives up the fetch (the call hung up or was redirected meanwhile). */
  signal?: AbortSignal;
}

export interface TwimlSource {
  /**
   * The TwiML text and the URL that gave it (the fallback's, when the primary failed): the base
   * of relative URLs in it. Throws when neither gives any.
   */
  fetch(request: TwimlRequest): Promise<{ twiml: string; url: string }>;
}

/** What a progress event may say beyond the call itself. */
export interface ProgressDetail {
  /** The final SIP response that decided a SIP call's outcome (Twilio's `SipResponseCode`). */
  sipResponseCode?: number;
}

/** Sends conference status callbacks (the home node, from the callback outbox). */
export interface ConferenceNotifier {
  /** Posts the event to its conference's callback with its `SequenceNumber` (`event.sequence`). */
  conferenceEvent(event: ConferenceEvent): void;
}

export interface CallNotifier {
  /** A call reached a progress event; sent only if the call's `StatusCallbackEvent` asks for it. */
  callProgress(call: Call, event: CallProgressEvent, detail?: ProgressDetail): void;
  /** A `<Gather>` ended with what it gathered (the live event stream tells it; no callback does). */
  gathered?(call: Call, report: GatherReport): void;
  /** A TwiML verb of the call starts (the call's timeline, domain/call-timeline.ts). */
  verbStarted?(call: Call, verb: VerbSummary): void;
}

export type AudioRequest =
  | { kind: 'play'; url: string; loop: number }
  | { kind: 'say'; text: string; voice: string; language: string; loop: number };

export interface AudioPlayer {
  /** Plays to the call; resolves when done, or at once when `signal` aborts. */
  play(call: Call, audio: AudioRequest, signal: AbortSignal): Promise<void>;
  /** Plays a ringback tone to the call, over and over, until `signal` aborts; resolves then. */
  ringback(call: Call, signal: AbortSignal): Promise<void>;
  /** Plays the beep (`<Record playBeep>`); resolves when played or at once when `signal` aborts. */
  beep(call: Call, signal: AbortSignal): Promise<void>;
}

/** One thing to play in a playlist resolved from a HoldUrl, WaitUrl or AnnounceUrl. */
export type PlaylistItem = AudioRequest | { kind: 'pause'; seconds: number };

/** Fetches a document (TwiML or audio) for a call's audio, signed like every webhook. */
export interface DocumentFetcher {
  fetchDocument(request: { url: string; method: HttpMethod; accountSid: string; params: Record<string, string>; signal?: AbortSignal }): Promise<{ contentType: string; body: string; url: string }>;
}

/** Two (or more) answered calls talking to each other: `<Dial>` to a phone. */
export interface CallBridge {
  /** Puts the calls' media legs in one room, each hearing the others. */
  join(roomId: string, callSids: readonly string[]): Promise<void>;
  /** Takes them out again (each back on its own). */
  leave(callSids: readonly string[]): Promise<void>;
}

/** What simulated endpoints with `;record` heard: a WAV, while the call is live and for a while after. */
export interface SimulatedRecordings {
  /** 8 kHz mono PCM16 WAV of everything the endpoint of `callSid` heard, or undefined. */
  recording(callSid: string): Promise<Uint8Array | undefined>;
}

/**
 * What the conference plays, beyond the mix: hold and wait music per participant, and
 * announcements to one participant or to everyone. The media plane implements it.
 */
export interface ConferenceAudio {
  /**
   * A playlist as one sound, 8 kHz mono PCM16 (files fetched and decoded, text spoken).
   * `looping`: it will be played over and over (a `loop="0"` item then counts once).
   */
  render(playlist: PlaylistItem[], looping: boolean): Promise<Int16Array>;
  /**
   * What the participant hears on hold, over and over from its start, from now on:
   * `undefined` is Conclave's default music, an empty sound is silence.
   */
  holdMusic(callSid: string, sound: Int16Array | undefined): Promise<void>;
  /** The same for the music heard while the conference has not started. */
  waitMusic(callSid: string, sound: Int16Array | undefined): Promise<void>;
  /** Resolves when the announcement has been played. */
  announce(target: { conferenceSid: string } | { callSid: string }, playlist: PlaylistItem[]): Promise<void>;
}
