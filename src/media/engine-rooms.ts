/**
 * The media engine's rooms and the legs in them, and everything that changes them: create and
 * destroy rooms; add, move, re-flag and close legs; players and keypad digits; the two halves of a cross-worker
 * move (detach here, attach there: same ports, stream, players and recorder). The engine
 * (media-engine.ts) routes requests here and drives the tick over `roomList`.
 *
 * Where the legs' sockets come from is decided once: the worker's batched UDP
 * (rtp/udp-batch.ts) where the native module loaded and the host is IPv4, else node:dgram.
 */
import { closeRoom, flagsOf, joinRoom, leaveRoom, legStatsOf, newRoom } from './engine-room.js';
import type { Leg, Room } from './engine-room.js';
import type { FrameSource, LegFlags } from './mixer.js';
import { inputFrom, movedLegOf, playerFrom, recorderFrom } from './leg-state.js';
import type { MovedLeg } from './leg-state.js';
import type {
  AddLegParams,
  LegClosedReason,
  LegFlagsPatch,
  MediaEngineOptions,
  MediaNotification,
  MediaRequestParams,
  MediaRequestResult,
  PacketTotals,
  PlayTarget,
  SoundSpec,
  TapEnd,
  TapTarget,
} from './protocol.js';
import { nativeUdp } from './rtp/native-udp.js';
import { RtpLeg } from './rtp/rtp-leg.js';
import type { RtpLegOptions } from './rtp/rtp-leg.js';
import { UdpBatch } from './rtp/udp-batch.js';
import { PcmPlayer, Recorder, ToneVoice, soundPcm } from './sources.js';
import { builtinSounds, encodeWav } from './sounds.js';
import { MediaError } from './media-error.js';
import { KeypadJob, keySteps } from './keypad.js';
import { RecordingTap } from './recording-tap.js';

const DEFAULT_RTP_TIMEOUT_MS = 30_000;

export class EngineRooms {
  readonly rooms = new Map<string, Room>();
  /** The rooms in creation order, for the tick. */
  readonly roomList: Room[] = [];
  readonly legs = new Map<string, Leg>();
  /** What the legs closed here sent and received (the metrics' packet counters), added as each closes. */
  readonly closedLegPackets: PacketTotals = { packetsIn: 0, packetsOut: 0, packetsLost: 0 };
  /** This engine's batched sockets; null = node:dgram (no native module, IPv6, or asked for). */
  readonly udp: UdpBatch | null;
  /** Legs whose sockets are being bound (their id is taken). */
  private readonly pending = new Set<string>();
  private readonly host: string;
  private readonly rtpTimeoutMs: number;
  private readonly portRange: { min: number; max: number } | undefined;
  private readonly rtcpIntervalMs: number | undefined;
  /** WebRTC legs' DTLS certificate (the process's one, from workerData). */
  private readonly dtlsCertificate: MediaEngineOptions['dtlsCertificate'];
  private closed = false;

  constructor(
    private readonly notify: (n: MediaNotification) => void,
    options: MediaEngineOptions,
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.rtpTimeoutMs = options.rtpTimeoutMs ?? DEFAULT_RTP_TIMEOUT_MS;
    this.portRange = options.portRange;
    this.rtcpIntervalMs = options.rtcpIntervalMs;
    this.dtlsCertificate = options.dtlsCertificate;
    this.udp = nativeUdp !== null && options.udp !== 'dgram' && !this.host.includes(':') ? new UdpBatch(nativeUdp) : null;
  }

  /** Closes every leg's sockets (no notifications) and the batch. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const leg of this.legs.values()) if (leg.rtp) closing.push(leg.rtp.close());
    this.legs.clear();
    for (const room of this.roomList) closeRoom(room);
    this.rooms.clear();
    this.roomList.length = 0;
    await Promise.all(closing);
    this.udp?.close();
  }

  startRtpTimeout(legId: string): Record<string, never> {
    const leg = this.leg(legId);
    if (!leg.rtp) throw new MediaError('invalid', `leg ${leg.id} is not an RTP leg`);
    leg.timeoutMs = this.rtpTimeoutMs;
    leg.lastRxAt = performance.now();
    return {};
  }

  setRemote(p: MediaRequestParams<'setRemote'>): Record<string, never> {
    const leg = this.leg(p.legId);
    if (!leg.rtp) throw new MediaError('invalid', `leg ${leg.id} is not an RTP leg`);
    if (p.webrtc !== undefined && !leg.rtp.isWebRtc) throw new MediaError('invalid', `leg ${leg.id} is not a WebRTC leg`);
    if (!leg.rtp.isWebRtc && (typeof p.address !== 'string' || typeof p.port !== 'number')) throw new MediaError('invalid', 'setRemote needs the address and port of a non-WebRTC leg');
    if (p.codec !== undefined) leg.rtp.setCodec(p.codec, p.payloadType);
    if (p.telephoneEventPayloadType !== undefined) leg.rtp.setTelephoneEvent(p.telephoneEventPayloadType);
    if (p.srtp !== undefined) leg.rtp.setRemoteKey(p.srtp);
    if (p.webrtc !== undefined) leg.rtp.updateWebRtc(p.webrtc);
    // A WebRTC leg's address is ICE's (RFC 8445 §2.5); the SDP's is not where it sends.
    if (!leg.rtp.isWebRtc) leg.rtp.setRemote(p.address!, p.port!);
    return {};
  }

  /** Absent = unchanged, null = silence, a sound = that sound looped from its start. */
  setSources({ legId, hold, wait }: MediaRequestParams<'setSources'>): Record<string, never> {
    const leg = this.leg(legId);
    leg.room.mixer.setSources(legId, {
      ...(hold !== undefined ? { holdSource: hold === null ? null : new PcmPlayer(0, soundPcm(hold), true) } : {}),
      ...(wait !== undefined ? { waitSource: wait === null ? null : new PcmPlayer(0, soundPcm(wait), true) } : {}),
    });
    return {};
  }

  async removeLeg(legId: string): Promise<Record<string, never>> {
    await this.closeLeg(this.leg(legId), 'removed');
    return {};
  }

  takeRecording(legId: string): MediaRequestResult<'takeRecording'> {
    const leg = this.leg(legId);
    if (!leg.recorder) throw new MediaError('invalid', `leg ${leg.id} does not record`);
    return { wav: encodeWav(leg.recorder.take()) };
  }

  private room(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new MediaError('no-room', `no room ${roomId}`);
    return room;
  }

  private leg(legId: string): Leg {
    const leg = this.legs.get(legId);
    if (!leg) throw new MediaError('no-leg', `no leg ${legId}`);
    return leg;
  }

  createRoom(roomId: string): Record<string, never> {
    if (this.rooms.has(roomId)) throw new MediaError('exists', `room ${roomId} exists`);
    const room = newRoom(roomId, (legId, talking) => this.notify({ kind: 'notify', type: 'talking', legId, talking }));
    this.rooms.set(roomId, room);
    this.roomList.push(room);
    return {};
  }

  async destroyRoom(roomId: string): Promise<Record<string, never>> {
    const room = this.room(roomId);
    // Gone at once, so nothing is moved or added into it while its legs close (closing awaits);
    // a leg moved out meanwhile is no longer its own and is left alone.
    this.rooms.delete(roomId);
    this.roomList.splice(this.roomList.indexOf(room), 1);
    closeRoom(room);
    this.endTaps(room.taps, 'closed');
    for (const leg of [...room.legs.values()]) if (leg.room === room) await this.closeLeg(leg, 'room-destroyed');
    for (const p of room.players) this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
    room.players.length = 0;
    return {};
  }

  async addLeg(p: AddLegParams): Promise<MediaRequestResult<'addLeg'>> {
    const room = this.room(p.roomId);
    if (this.legs.has(p.legId) || this.pending.has(p.legId)) throw new MediaError('exists', `leg ${p.legId} exists`);
    const sounds = builtinSounds();
    const flags: Partial<LegFlags> = flagsOf(p.flags ?? {});
    let rtp: RtpLeg | null = null;
    let recorder: Recorder | null = null;
    let input: FrameSource | null = null;
    let timeoutMs = 0;
    if (p.kind === 'rtp') {
      const range = p.portRange ?? this.portRange;
      rtp = await this.openRtp(p.legId, room, {
        codec: p.codec,
        ...(p.payloadType !== undefined ? { payloadType: p.payloadType } : {}),
        ...(p.webrtc ? { webrtc: p.webrtc } : {}),
        host: this.host,
        ...(range ? { portRange: range } : {}),
        ...(p.remote ? { remote: p.remote } : {}),
        telephoneEventPayloadType: p.telephoneEventPayloadType ?? null,
        ...(p.srtp ? { srtp: p.srtp } : {}),
        ...(this.rtcpIntervalMs !== undefined ? { rtcpIntervalMs: this.rtcpIntervalMs } : {}),
      });
      input = rtp;
      timeoutMs = p.rtpTimeoutMs ?? this.rtpTimeoutMs;
    } else {
      if (p.voice) input = new PcmPlayer(0, p.voice, true);
      else if (p.tone) input = new ToneVoice(p.tone);
      if (p.record) recorder = new Recorder();
    }
    const leg = joinRoom(
      room,
      { id: p.legId, kind: p.kind, rtp, recorder, players: [], keypad: [], taps: [], timeoutMs, packetsOut: 0 },
      { input, holdSource: new PcmPlayer(0, sounds['hold-music'], true), waitSource: new PcmPlayer(0, sounds['wait-music'], true) },
      flags,
    );
    this.legs.set(leg.id, leg);
    return rtp ? { localAddress: rtp.localAddress, localPort: rtp.localPort } : { localAddress: null, localPort: null };
  }

  setLeg(legId: string, patch: LegFlagsPatch): Record<string, never> {
    const leg = this.leg(legId);
    leg.room.mixer.setFlags(legId, flagsOf(patch));
    return {};
  }

  /**
   * Takes the leg out of its room's mixer (a talking leg gets `talking false` there) and puts its
   * same input and hold/wait sources into the new room's, so the socket, SSRC, sequence numbers,
   * jitter buffer, players and recorder carry on untouched; only the flags start afresh.
   */
  moveLeg(legId: string, roomId: string, patch: LegFlagsPatch): Record<string, never> {
    const leg = this.leg(legId);
    const to = this.room(roomId);
    const { input, holdSource, waitSource } = leg.mix;
    leaveRoom(leg);
    leg.room = to;
    leg.mix = to.mixer.addLeg(legId, { input, holdSource, waitSource }, flagsOf(patch));
    to.legs.set(legId, leg);
    to.legList.push(leg);
    return {};
  }

  play(id: number, target: PlayTarget, sound: SoundSpec, loop: boolean): number {
    const player = new PcmPlayer(id, soundPcm(sound), loop);
    this.playersOf(target).push(player);
    return id;
  }

  /** Digits to the leg's far end: RFC 4733 events where its peer negotiated them, else tones. */
  sendDigits(id: number, legId: string, digits: string): number {
    const leg = this.leg(legId);
    const mode = leg.rtp !== null && leg.rtp.telephoneEventPayloadType !== null ? 'rfc4733' : 'inband';
    leg.keypad.push(new KeypadJob(id, mode, keySteps(digits)));
    return id;
  }

  /** A sim leg's far end presses keys: `dtmf` as each is released, nothing heard. */
  pressKeys(id: number, legId: string, digits: string): number {
    const leg = this.leg(legId);
    if (leg.kind !== 'sim') throw new MediaError('invalid', `leg ${leg.id} is not a simulated endpoint: only its far end can press keys`);
    leg.keypad.push(new KeypadJob(id, 'press', keySteps(digits)));
    return id;
  }

  /** Stops players and keypad jobs (one by playId, or all on the target), each told `stopped`. */
  stopPlay(target: PlayTarget, playId: number | undefined): number {
    const players = this.playersOf(target);
    let stopped = 'legId' in target ? this.stopKeys(this.leg(target.legId), playId) : 0;
    for (let i = players.length - 1; i >= 0; i--) {
      const p = players[i]!;
      if (playId === undefined || p.id === playId) {
        players.splice(i, 1);
        stopped++;
        this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
      }
    }
    return stopped;
  }

  /**
   * Stops a leg's keypad jobs (all, or the one of `playId`) and tells each `stopped`; a job in
   * the middle of an RFC 4733 event stays until its end packets are out (KeypadJob.stop).
   */
  private stopKeys(leg: Leg, playId: number | undefined): number {
    let stopped = 0;
    for (let i = leg.keypad.length - 1; i >= 0; i--) {
      const job = leg.keypad[i]!;
      if (job.stopped || (playId !== undefined && job.id !== playId)) continue;
      if (!job.stop()) leg.keypad.splice(i, 1);
      stopped++;
      this.notify({ kind: 'notify', type: 'played', id: job.id, stopped: true });
    }
    return stopped;
  }

  startRecording({ tapId, target, channels, track }: MediaRequestParams<'startRecording'>): Record<string, never> {
    if (channels !== 1 && channels !== 2) throw new MediaError('invalid', `channels must be 1 or 2, not ${String(channels)}`);
    if (track !== 'inbound' && track !== 'outbound' && track !== 'both') throw new MediaError('invalid', `unknown track ${String(track)}`);
    if ('roomId' in target && (channels !== 1 || track !== 'both')) throw new MediaError('invalid', 'a room is recorded mono, both tracks');
    const taps = this.tapsOf(target);
    if (taps.some((t) => t.id === tapId)) throw new MediaError('exists', `tap ${tapId} exists`);
    taps.push(new RecordingTap(tapId, channels, track, this.sendBatch));
    return {};
  }

  setRecording({ tapId, target, paused }: MediaRequestParams<'setRecording'>): Record<string, never> {
    if (paused !== null && paused !== 'skip' && paused !== 'silence') throw new MediaError('invalid', `unknown pause ${String(paused)}`);
    this.tap(target, tapId).paused = paused;
    return {};
  }

  /** Hands over what the tap holds, marked its last, then forgets it. */
  stopRecording({ tapId, target }: MediaRequestParams<'stopRecording'>): Record<string, never> {
    const taps = this.tapsOf(target);
    const tap = this.tap(target, tapId);
    taps.splice(taps.indexOf(tap), 1);
    this.endTaps([tap], 'stopped');
    return {};
  }

  /** A tap's batch as a `recorded` notification (the worker's postMessage copies it). */
  private readonly sendBatch = (tap: RecordingTap, pcm: Int16Array, end: TapEnd | null): void => {
    this.notify({ kind: 'notify', type: 'recorded', tapId: tap.id, seq: tap.nextSeq(), pcm, end });
  };

  /** The taps' last batches, marked `end`; the list is emptied. */
  private endTaps(taps: RecordingTap[], end: TapEnd): void {
    for (const tap of taps) tap.end(end);
    taps.length = 0;
  }

  private tapsOf(target: TapTarget): RecordingTap[] {
    return 'legId' in target ? this.leg(target.legId).taps : this.room(target.roomId).taps;
  }

  private tap(target: TapTarget, tapId: string): RecordingTap {
    const tap = this.tapsOf(target).find((t) => t.id === tapId);
    if (!tap) throw new MediaError('no-tap', `no tap ${tapId}`);
    return tap;
  }

  private playersOf(target: PlayTarget): PcmPlayer[] {
    return 'legId' in target ? this.leg(target.legId).players : this.room(target.roomId).players;
  }

  async closeLeg(leg: Leg, reason: LegClosedReason): Promise<void> {
    if (this.legs.get(leg.id) !== leg) return;
    this.legs.delete(leg.id);
    const { packetsIn, packetsOut, packetsLost } = legStatsOf(leg);
    this.closedLegPackets.packetsIn += packetsIn;
    this.closedLegPackets.packetsOut += packetsOut;
    this.closedLegPackets.packetsLost += packetsLost;
    leaveRoom(leg);
    for (const p of leg.players) this.notify({ kind: 'notify', type: 'played', id: p.id, stopped: true });
    leg.players.length = 0;
    this.stopKeys(leg, undefined);
    leg.keypad.length = 0;
    this.endTaps(leg.taps, 'closed');
    this.notify({ kind: 'notify', type: 'legClosed', legId: leg.id, roomId: leg.room.id, reason });
    if (leg.rtp) await leg.rtp.close();
  }

  /**
   * Takes a leg out of this worker for a room in another: out of its room (a talking leg gets
   * `talking false`, as on any move), its state captured, its sockets closed so the other
   * worker can bind the same ports. No `legClosed`: the leg lives on.
   */
  async detachLeg(legId: string): Promise<{ roomId: string; leg: MovedLeg }> {
    let leg = this.leg(legId);
    // A WebRTC leg in the middle of its DTLS handshake: werift-dtls's state cannot travel, its
    // outcome can. Wait for it (10 s at most, the handshake's deadline): connected, the leg moves
    // with its SRTP keys; failed, it is closed meanwhile and the move fails with no-leg.
    if (leg.rtp !== null) {
      await leg.rtp.handshakeSettled();
      leg = this.leg(legId);
    }
    this.legs.delete(legId);
    leaveRoom(leg);
    // Its taps' full batches went from here as they filled, before this reply and so before the
    // other worker's; the unfinished one travels in the state, to be finished there.
    const moved = movedLegOf(leg);
    leg.players.length = 0;
    leg.keypad.length = 0;
    leg.taps.length = 0;
    if (leg.rtp) await leg.rtp.close();
    return { roomId: leg.room.id, leg: moved };
  }

  /** The other half of a cross-worker move: the same ports, stream, players and recorder. */
  async attachLeg(roomId: string, m: MovedLeg, patch: LegFlagsPatch): Promise<Record<string, never>> {
    const room = this.room(roomId);
    if (this.legs.has(m.legId) || this.pending.has(m.legId)) throw new MediaError('exists', `leg ${m.legId} exists`);
    const rtp = m.rtp ? await this.openRtp(m.legId, room, { restore: m.rtp }) : null;
    const leg = joinRoom(
      room,
      {
        id: m.legId,
        kind: m.kind,
        rtp,
        recorder: recorderFrom(m.recorded),
        players: m.players.map(playerFrom),
        keypad: m.keypad.map((k) => KeypadJob.from(k)),
        taps: m.taps.map((t) => RecordingTap.from(t, this.sendBatch)),
        timeoutMs: m.timeoutMs,
        packetsOut: m.packetsOut,
      },
      { input: rtp ?? inputFrom(m.input), holdSource: m.hold ? playerFrom(m.hold) : null, waitSource: m.wait ? playerFrom(m.wait) : null },
      flagsOf(patch),
    );
    this.legs.set(leg.id, leg);
    return {};
  }

  /**
   * Binds an RTP leg's sockets (which awaits), then checks that the engine and the room are
   * still there: a room destroyed meanwhile gets no leg, and its sockets are closed again.
   */
  private async openRtp(legId: string, room: Room, options: RtpLegOptions): Promise<RtpLeg> {
    this.pending.add(legId);
    let rtp: RtpLeg;
    try {
      const withCertificate = this.dtlsCertificate ? { ...options, dtlsCertificate: this.dtlsCertificate } : options;
      rtp = await RtpLeg.open(this.udp !== null ? { ...withCertificate, openSocket: this.udp.open } : withCertificate);
    } finally {
      this.pending.delete(legId);
    }
    if (this.closed || this.rooms.get(room.id) !== room) {
      await rtp.close();
      throw this.closed ? new MediaError('closed', 'engine closed') : new MediaError('no-room', `room ${room.id} was destroyed`);
    }
    rtp.onDtmf = (digit) => this.notify({ kind: 'notify', type: 'dtmf', legId, digit });
    rtp.onFailed = () => {
      const leg = this.legs.get(legId);
      if (leg && leg.rtp === rtp) void this.closeLeg(leg, 'dtls-failed');
    };
    return rtp;
  }
}
