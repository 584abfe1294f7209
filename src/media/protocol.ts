/**
 * The typed API between the control plane (main thread) and the media plane (worker thread).
 *
 * Requests carry an `id`; the worker answers each with exactly one `MediaReply` of that id.
 * Notifications are unsolicited. Everything here is structured-clone safe (plain objects,
 * strings, numbers, typed arrays), so the same messages work over a MessagePort and in-process.
 */

import type { MediaErrorCode } from './media-error.js';
import type { MovedLeg } from './leg-state.js';
import type { ReceiverFigures } from './rtp/rtcp-session.js';
import type { SrtpKey } from './rtp/srtp-keys.js';

export type { ReceiverFigures } from './rtp/rtcp-session.js';
export type { SrtpKey, SrtpSuite } from './rtp/srtp-keys.js';

export type G711CodecName = 'PCMU' | 'PCMA';
/** What an RTP leg speaks: G.711 (8 kHz) or Opus (RFC 7587: 48 kHz RTP clock, a negotiated payload type). */
export type AudioCodecName = G711CodecName | 'opus';

/** An ICE username fragment and password (RFC 8445 §5.3: ufrag ≥ 4 characters, pwd ≥ 22). */
export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** A certificate fingerprint as SDP's a=fingerprint carries it (RFC 8122 §5): `sha-256`, `AB:CD:…`. */
export interface CertificateFingerprint {
  algorithm: string;
  value: string;
}

/**
 * A WebRTC leg (a browser's media): ICE-lite, DTLS-SRTP, RTP and RTCP on one port. What the
 * control plane reads from and writes into the two SDPs (contract of issue 16).
 */
export interface WebRtcLegParams {
  /** Our ICE-lite credentials, in our SDP (RFC 8445 §5.3: ufrag ≥ 4 chars, pwd ≥ 22). */
  localIce: IceCredentials;
  /** The peer's, from its SDP (absent until its answer when we offered). */
  remoteIce?: IceCredentials | null;
  /** 'server' = we wait for the ClientHello (our SDP says a=setup:passive, or actpass and the peer chose active). */
  dtlsRole: 'server' | 'client';
  /** The peer's a=fingerprint (RFC 8122); the handshake is refused unless its certificate matches. Absent until known. */
  remoteFingerprint?: CertificateFingerprint | null;
}

/**
 * How long a WebRTC leg's DTLS handshake may take once it began (the peer's first DTLS datagram,
 * or ICE done when we are the client), the check of its certificate included: then `dtls-failed`.
 */
export const DTLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A self-signed certificate and its private key, PEM (one per process: legs move between workers). */
export interface DtlsCertificatePem {
  certPem: string;
  keyPem: string;
}

export interface RemoteAddress {
  address: string;
  port: number;
}

export interface ToneSpec {
  frequencyHz: number;
  /** Peak amplitude, 0–32767. */
  amplitude: number;
}

export interface AddRtpLegParams {
  roomId: string;
  legId: string;
  kind: 'rtp';
  codec: AudioCodecName;
  /**
   * The negotiated RTP payload type of `codec`: needed for opus (dynamic, RFC 7587 §7, e.g.
   * 111); G.711's static ones (0, 8) when absent.
   */
  payloadType?: number;
  /**
   * A WebRTC leg (contract above): one port for RTP and RTCP (RFC 5761), ICE-lite, DTLS-SRTP.
   * `remote` and `srtp` are ignored then: the remote address comes from ICE, keys from DTLS.
   */
  webrtc?: WebRtcLegParams;
  /** Where to send; otherwise latched from the first valid packet (symmetric RTP). */
  remote?: RemoteAddress;
  /** Inclusive range to take the first free even local port from. */
  portRange?: { min: number; max: number };
  /** Per-leg RTP inactivity timeout in ms (0 = none); defaults to the engine's. */
  rtpTimeoutMs?: number;
  /** Initial flags. */
  flags?: LegFlagsPatch;
  /**
   * The peer's RFC 4733 telephone-event payload type (from its SDP, 0–127, not the codec's):
   * such packets are DTMF, reported as `dtmf` notifications and never played as audio.
   */
  telephoneEventPayloadType?: number | null;
  /**
   * SRTP (RFC 3711 with SDES keys, RFC 4568): `local` is the key in our SDP, protecting what we
   * send; `remote` the key in the peer's (absent until its answer: `setRemote` brings it). The
   * leg then sends and accepts only SRTP and SRTCP.
   */
  srtp?: { local: SrtpKey; remote?: SrtpKey | null };
}

export interface AddSimLegParams {
  roomId: string;
  legId: string;
  kind: 'sim';
  /** The simulated endpoint's voice; absent (and no `voice`) = silence. */
  tone?: ToneSpec;
  /** The simulated endpoint's voice as 8 kHz mono PCM16, looped (instead of a tone). */
  voice?: Int16Array;
  /** Record what the endpoint hears (retrieve with `takeRecording`). */
  record?: boolean;
  flags?: LegFlagsPatch;
}

export type AddLegParams = AddRtpLegParams | AddSimLegParams;

export interface LegFlagsPatch {
  muted?: boolean;
  hold?: boolean;
  canHear?: boolean;
  /** Leg id this leg coaches (heard only by it); null = not a coach. */
  coachOf?: string | null;
  waiting?: boolean;
}

export type BuiltinSound = 'beep' | 'beep-exit' | 'hold-music' | 'wait-music' | 'ringback';
/** A built-in sound or 8 kHz mono PCM16 supplied by the caller. */
export type SoundSpec = BuiltinSound | { pcm: Int16Array };

export type PlayTarget = { legId: string } | { roomId: string };

/** What a recording tap listens to: a leg (what it says and hears) or a room (its mix). */
export type TapTarget = PlayTarget;
/** A leg's tap, mono: what it says (`inbound`), hears (`outbound`), or both mixed. Rooms: `both`. */
export type RecordingTrack = 'inbound' | 'outbound' | 'both';
/** While paused: nothing handed over (`skip`) or silence in the audio's place (`silence`). */
export type TapPause = 'skip' | 'silence';
/** Why a tap's last batch is its last: stopped by request, or its leg or room closed. */
export type TapEnd = 'stopped' | 'closed';

export interface LegStats {
  legId: string;
  roomId: string;
  kind: 'rtp' | 'sim';
  packetsIn: number;
  packetsOut: number;
  /** Frames the jitter buffer found missing at playout. */
  packetsLost: number;
  talking: boolean;
  /** RTP legs: RTCP receiver figures (RFC 3550 A.3 loss, A.8 jitter, the peer's last SR). */
  receiver?: ReceiverFigures;
  /** SRTP legs: packets dropped for a wrong tag (or no peer key yet), and as replays (RFC 3711 §3.3). */
  srtp?: { authFailures: number; replays: number };
}

/** One media worker's own figures (MediaClient shards rooms over several). */
export interface WorkerStats {
  worker: number;
  ticks: number;
  lateTicks: number;
  skippedTicks: number;
  maxLateMs: number;
  rooms: number;
  legs: number;
  tickMeanUs: number;
  tickMaxUs: number;
  /** Event loop utilisation of the worker thread since it started (0–1): its busy share of a core. */
  elu: { idleMs: number; activeMs: number };
  /** V8 heap of the worker's isolate, bytes. */
  heapUsed: number;
  heapTotal: number;
  /** How its sockets do I/O: batched per tick (native) or one datagram at a time (dgram). */
  udp: 'native' | 'dgram';
  /** Whether its thread runs under SCHED_FIFO (MediaEngineOptions.realtimePriority). */
  realtime: boolean;
  /** The packets of the legs closed on this worker so far (a leg moved away is not closed): live legs' add to them. */
  closedLegPackets: PacketTotals;
}

/** RTP packets received and sent, and frames the jitter buffer found missing. */
export interface PacketTotals {
  packetsIn: number;
  packetsOut: number;
  packetsLost: number;
}

export interface EngineStats {
  ticks: number;
  lateTicks: number;
  skippedTicks: number;
  maxLateMs: number;
  rooms: number;
  /** Mean and max wall time of one engine tick, in µs. */
  tickMeanUs: number;
  tickMaxUs: number;
  /** Shared mixes encoded (once per codec per room per tick) vs private per-leg encodes. */
  sharedEncodes: number;
  privateEncodes: number;
  legs: LegStats[];
  /**
   * Per worker. The totals above add the workers up (ticks and late ticks are summed, so
   * late / ticks is the share of late ticks over all workers; max values are the max).
   */
  workers?: WorkerStats[];
}

/** Request name → its parameters and the result of a successful reply. */
export interface MediaRequestMap {
  createRoom: { params: { roomId: string }; result: Record<string, never> };
  destroyRoom: { params: { roomId: string }; result: Record<string, never> };
  addLeg: { params: AddLegParams; result: { localAddress: string | null; localPort: number | null } };
  setLeg: { params: { legId: string } & LegFlagsPatch; result: Record<string, never> };
  /**
   * The leg's call was answered: its RTP inactivity timeout (the engine's) counts from now. The
   * leg of a call not answered yet (an outbound INVITE ringing, an inbound call in early media)
   * is added with `rtpTimeoutMs: 0`: a phone need not send RTP before the 200, and RTP timeouts
   * apply to answered calls (FreeSWITCH's `media_timeout`, Asterisk's `rtptimeout`).
   */
  startRtpTimeout: { params: { legId: string }; result: Record<string, never> };
  /** Where an RTP leg sends, and (from the SDP answer) the codec it speaks from now on. */
  setRemote: {
    /**
     * `telephoneEventPayloadType`: the peer's, from its SDP (null: none); absent = unchanged.
     * `srtp`: the peer's SRTP key from its SDP (an SRTP leg only); absent = unchanged.
     * `address`/`port`: required for a plain or SDES leg; a WebRTC leg learns its remote address
     * from ICE (RFC 8445 §2.5: a lite agent answers checks), so there they may be omitted and are
     * ignored.
     */
    params: {
      legId: string;
      codec?: AudioCodecName;
      /** The payload type of `codec` (opus: the answer's dynamic one); absent = G.711's static ones. */
      payloadType?: number;
      telephoneEventPayloadType?: number | null;
      srtp?: SrtpKey;
      /** A WebRTC leg: what the peer's SDP (an answer to our offer) says; absent fields unchanged. */
      webrtc?: Partial<Pick<WebRtcLegParams, 'remoteIce' | 'remoteFingerprint' | 'dtlsRole'>>;
    } & Partial<RemoteAddress>;
    result: Record<string, never>;
  };
  /** Starts a player; its result `playId` (the request id) comes back in `played` when it ends. */
  play: { params: { target: PlayTarget; sound: SoundSpec; loop?: boolean }; result: { playId: number } };
  /**
   * Sends keypad digits to the leg's far end (`0-9 * # A-D`, `w` a 0.5 s pause, `W` 1 s; else
   * `invalid`): RFC 4733 events where the peer negotiated telephone-event, else in-band tones
   * laid over what the leg hears (a sim leg's recording has them). Each digit is 100 ms of tone
   * and 100 ms of gap (keypad.ts). Requests queue: one leg's digits go out one job after the
   * other. `played` (that playId) when all went out; stopPlay, or the leg closing, settle it
   * stopped. A leg moved to another room or worker keeps sending.
   */
  sendDigits: { params: { legId: string; digits: string }; result: { playId: number } };
  /**
   * A sim leg's far end presses keys, as a phone sending RFC 4733 would: a `dtmf` notification
   * per digit when its key is released, nothing heard; the same timing, `played` and stopping
   * as sendDigits. Other legs: `invalid`.
   */
  pressKeys: { params: { legId: string; digits: string }; result: { playId: number } };
  /** Stops one player or keypad job (playId), or every one on the target. */
  stopPlay: { params: { target: PlayTarget; playId?: number }; result: { stopped: number } };
  removeLeg: { params: { legId: string }; result: Record<string, never> };
  /**
   * Moves a leg (its socket, players and recorder) into another room: a call that was playing
   * TwiML joins a conference, or leaves it. Its flags are reset to the defaults or `flags`.
   */
  moveLeg: { params: { legId: string; roomId: string; flags?: LegFlagsPatch }; result: Record<string, never> };
  /**
   * What a leg hears on hold and while waiting: a sound (looped from its start), `null` for
   * silence, absent = unchanged (a new leg starts with the built-in hold and wait music). Takes
   * effect at once, also mid-hold.
   */
  setSources: { params: { legId: string; hold?: SoundSpec | null; wait?: SoundSpec | null }; result: Record<string, never> };
  /**
   * Starts a recording tap (recording-tap.ts) named `tapId`: 8 kHz PCM16 batches in `recorded`
   * notifications, the first from the next tick. A leg's tap moves with the leg (rooms,
   * workers); `channels: 2` (legs only) interleaves what it says and what it hears. A room's
   * tap is its mix as a listener who says nothing hears it: no hold or wait music, no coach.
   */
  startRecording: { params: { tapId: string; target: TapTarget; channels: 1 | 2; track: RecordingTrack }; result: Record<string, never> };
  /** Pauses (`skip` or `silence`) or resumes (null) a tap from the next frame. */
  setRecording: { params: { tapId: string; target: TapTarget; paused: TapPause | null }; result: Record<string, never> };
  /** Stops a tap: its last `recorded` (end `stopped`) is sent before the reply. */
  stopRecording: { params: { tapId: string; target: TapTarget }; result: Record<string, never> };
  /** A PCM16 mono 8 kHz WAV file of what a recording sim leg heard since the last take. */
  takeRecording: { params: { legId: string }; result: { wav: Uint8Array } };
  stats: { params: Record<string, never>; result: EngineStats };
}

/**
 * Requests between MediaClient and its workers only: a leg moving to a room of another worker
 * leaves the first (its sockets closed, its state returned) and is re-opened in the second on
 * the same ports.
 */
export interface InternalRequestMap {
  detachLeg: { params: { legId: string }; result: { roomId: string; leg: MovedLeg } };
  attachLeg: { params: { roomId: string; flags?: LegFlagsPatch; leg: MovedLeg }; result: Record<string, never> };
}

export type WorkerRequestMap = MediaRequestMap & InternalRequestMap;
export type WorkerRequestType = keyof WorkerRequestMap;
export type WorkerRequest = {
  [K in WorkerRequestType]: { kind: 'request'; id: number; type: K; params: WorkerRequestMap[K]['params'] };
}[WorkerRequestType];

export type MediaRequestType = keyof MediaRequestMap;
export type MediaRequestParams<K extends MediaRequestType> = MediaRequestMap[K]['params'];
export type MediaRequestResult<K extends MediaRequestType> = MediaRequestMap[K]['result'];

export type MediaRequest = {
  [K in MediaRequestType]: { kind: 'request'; id: number; type: K; params: MediaRequestParams<K> };
}[MediaRequestType];

export type MediaReply =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string; code: MediaErrorCode };

/**
 * `dtls-failed`: a WebRTC leg's DTLS handshake failed, did not finish within 10 s of starting,
 * or the peer's certificate did not match its SDP fingerprint (the control plane ends the leg
 * as `media-failure`).
 */
export type LegClosedReason = 'removed' | 'rtp-timeout' | 'room-destroyed' | 'dtls-failed';

export type MediaNotification =
  | { kind: 'notify'; type: 'talking'; legId: string; talking: boolean }
  | { kind: 'notify'; type: 'legClosed'; legId: string; roomId: string; reason: LegClosedReason }
  | { kind: 'notify'; type: 'played'; id: number; stopped: boolean }
  /**
   * A keypad digit from the leg's far end, '0'–'9', '*', '#', 'A'–'D', reported when its key
   * is released: an RFC 4733 telephone-event ended, a digit detected in the audio of an RTP
   * leg without telephone-event, or a sim leg's `pressKeys`.
   */
  | { kind: 'notify'; type: 'dtmf'; legId: string; digit: string }
  /**
   * A batch of a recording tap's audio (8 kHz PCM16, L/R interleaved when dual), copied into
   * the message (in-process, the engine's own buffer: copy it before the call returns); `seq` counts a tap's batches from 0, across workers. `end` marks the last one
   * (it may be empty): the tap was stopped, or its leg or room closed.
   */
  | { kind: 'notify'; type: 'recorded'; tapId: string; seq: number; pcm: Int16Array; end: TapEnd | null };

export type MediaNotificationType = MediaNotification['type'];

/** Options given to the worker at start (workerData). */
export interface MediaEngineOptions {
  /** Local address RTP sockets bind to (default 127.0.0.1). */
  host?: string;
  /** Default RTP inactivity timeout in ms; 0 = none (default 30 000). */
  rtpTimeoutMs?: number;
  /** Default port range for RTP legs. */
  portRange?: { min: number; max: number };
  /** Tick period in ms (default 20). */
  intervalMs?: number;
  /** Mean RTCP report interval in ms (default 5000, RFC 3550 §6.2). */
  rtcpIntervalMs?: number;
  /** Nice value for each media worker thread (Linux; e.g. −10; absent = unchanged; best effort). */
  threadNice?: number;
  /**
   * SCHED_FIFO priority (1–99) for each media worker thread, as Asterisk `-p` and FreeSWITCH
   * `-rp`; absent or 0 = normal scheduling. Needs the native UDP module and CAP_SYS_NICE.
   */
  realtimePriority?: number;
  /** 'native' (default where the module loaded): batched UDP per tick; 'dgram': node:dgram. */
  udp?: 'native' | 'dgram';
  /** Index of this worker among the client's (stats). */
  workerIndex?: number;
  /**
   * The DTLS certificate of WebRTC legs (rtp/dtls-certificate.ts): ONE for all workers, made
   * before they start, because a leg moves between workers and its peer pinned the fingerprint.
   * Absent: a WebRTC leg cannot be opened.
   */
  dtlsCertificate?: DtlsCertificatePem;
}
