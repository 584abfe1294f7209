/**
 * The control plane's view of the media workers, shaped like mediasoup's Router: it opens
 * media legs (MediaLeg, one per answered call, named by its CallSid) and keeps the rooms they
 * share (MediaRoom: conferences, `<Dial>` bridges). Owners hold the leg objects they open;
 * others look a leg up by CallSid and get `undefined` once it is closed.
 *
 * Closing cascades: `close()` — or the media worker dying — closes every room and leg, which
 * settles every pending play (false) and rejects every request (`MediaError('closed')`), so no
 * `<Play>` or announcement waits for ever and shutdown never hangs on one. After a worker died,
 * the next leg opened starts new workers, with a warning: an explicit restart, not a side
 * effect. The workers start on first use: a server that never gets a call never starts a thread.
 *
 * The RTP port range is counted here (a pair per RTP leg): when it is full, opening a leg fails
 * at once with `ports-exhausted` instead of every worker probing thousands of ports, and the SIP
 * edge can answer 503 before it rings (`hasRtpCapacity`).
 */
import { EventEmitter } from 'node:events';
import { MediaClient, type MediaClientOptions } from '../../media/media-client.js';
import { isGone, MediaError } from '../../media/media-error.js';
import { nativeUdpError } from '../../media/rtp/native-udp.js';
import { createDtlsCertificate, pemFingerprint } from '../../media/rtp/dtls-certificate.js';
import type { DtlsCertificate } from '../../media/rtp/dtls-certificate.js';
import type { AudioCodecName, CertificateFingerprint, EngineStats, MediaNotification, MediaRequestParams, MediaRequestResult, MediaRequestType, PlayTarget, RemoteAddress, SrtpKey, ToneSpec, WebRtcLegParams, WorkerStats } from '../../media/protocol.js';
import type { MediaChannel, MediaLogger } from './media-channel.js';
import { MediaLeg, type LegEnd } from './media-leg.js';
import { MediaRoom } from './media-room.js';
import { RecordingShelf } from './recording-shelf.js';

export type { MediaLogger } from './media-channel.js';
export type { LegEnd } from './media-leg.js';

export interface SimVoice {
  tone?: ToneSpec;
  pcm?: Int16Array;
}

export interface MediaPlaneOptions extends MediaClientOptions {
  /** See MediaConfig.realtimeRequired. */
  realtimeRequired?: boolean;
}

export interface RtpLegParams {
  /** SRTP (RFC 4568 SDES): our key, and the peer's once known; absent = plain RTP. */
  srtp?: { local: SrtpKey; remote?: SrtpKey | null };
  codec: AudioCodecName;
  /** The negotiated payload type of `codec` (opus: dynamic, e.g. 111); absent = G.711's static one. */
  payloadType?: number;
  /** A WebRTC leg (ICE-lite, DTLS-SRTP, rtcp-mux): `remote` and `srtp` are not used then. */
  webrtc?: WebRtcLegParams;
  remote?: RemoteAddress;
  telephoneEvent: number | null;
  /** The call is not answered yet: its RTP timeout starts with `MediaLeg.answered()`. */
  unanswered?: boolean;
}

export interface MediaPlaneEvents {
  /** Talk detection of a leg (the `speaker` events). */
  talking: [callSid: string, talking: boolean];
  /** A keypad digit from a leg's far end (RFC 4733, in-band, or a sim leg's pressKeys). */
  digit: [callSid: string, digit: string];
  /** A batch of a recording tap's audio (recorder-taps.ts). */
  recorded: [batch: RecordedBatch];
}

/** A recording tap's batch as the worker sent it (protocol.ts `recorded`). */
export type RecordedBatch = Omit<Extract<MediaNotification, { type: 'recorded' }>, 'kind' | 'type'>;

export class MediaPlane implements MediaChannel {
  readonly observer = new EventEmitter<MediaPlaneEvents>();
  private client: MediaClient | undefined;
  private readonly legs = new Map<string, MediaLeg>();
  private readonly rooms = new Map<string, MediaRoom>();
  private readonly plays = new Map<number, (played: boolean) => void>();
  private readonly recordings = new RecordingShelf();
  private rtpLegs = 0;
  private workerFailures = 0;
  private closing: Promise<void> | undefined;

  private readonly options: MediaClientOptions;
  /** Whether SCHED_FIFO was asked for explicitly: not getting it is then a warning, else a note. */
  private readonly realtimeRequired: boolean;
  /** RTP legs the port range holds (a pair each); Infinity when the OS picks ports. */
  private readonly rtpCapacity: number;
  /** Made on first use, kept for the plane's life: workers restarted after a failure present it too. */
  private certificate: DtlsCertificate | undefined;

  constructor(
    options: MediaPlaneOptions,
    readonly log: MediaLogger,
  ) {
    const { realtimeRequired, ...client } = options;
    this.options = client;
    this.realtimeRequired = realtimeRequired ?? false;
    const range = client.portRange;
    this.rtpCapacity = range ? Math.max(0, Math.floor((range.max - 1 - (range.min + (range.min & 1))) / 2) + 1) : Number.POSITIVE_INFINITY;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * The sha-256 fingerprint of the DTLS certificate of this plane's WebRTC legs, for our SDP's
   * a=fingerprint (RFC 8122): `{ algorithm: 'sha-256', value: 'AB:CD:…' }`. The same for every
   * worker and for workers restarted after a failure.
   */
  get dtlsFingerprint(): CertificateFingerprint {
    return this.dtlsCertificate().fingerprint;
  }

  /** Talk detection of every leg (the `speaker` events). */
  onTalking(listener: (callSid: string, talking: boolean) => void): void {
    this.observer.on('talking', listener);
  }

  /**
   * Every keypad digit a leg's far end sends, whatever the way (RFC 4733 events, tones in the
   * audio, a simulated endpoint's keys), once per key press when it is released. Returns the
   * function that unsubscribes.
   */
  onDigit(listener: (callSid: string, digit: string) => void): () => void {
    this.observer.on('digit', listener);
    return () => {
      this.observer.off('digit', listener);
    };
  }

  /**
   * Every batch of every recording tap, in the order each worker sent them. Returns the
   * function that unsubscribes.
   */
  onRecorded(listener: (batch: RecordedBatch) => void): () => void {
    this.observer.on('recorded', listener);
    return () => {
      this.observer.off('recorded', listener);
    };
  }

  /** The open leg of a call, if it has one. */
  leg(callSid: string): MediaLeg | undefined {
    return this.legs.get(callSid);
  }

  /** The room of that id, made on first use (a conference, a bridge). */
  room(roomId: string): MediaRoom {
    if (this.closed) throw new MediaError('closed', 'the media plane is closed');
    const open = this.rooms.get(roomId);
    if (open && !open.closed) return open;
    const room = new MediaRoom(roomId, this, open?.destroyed);
    this.rooms.set(roomId, room);
    return room;
  }

  /** The room of that id if it exists (nothing is made). */
  findRoom(roomId: string): MediaRoom | undefined {
    const room = this.rooms.get(roomId);
    return room && !room.closed ? room : undefined;
  }

  /** Whether one more RTP leg would find a port pair (the SIP edge answers 503 if not). */
  hasRtpCapacity(): boolean {
    return !this.closed && this.rtpLegs < this.rtpCapacity;
  }

  /** A simulated endpoint's leg: its voice (a tone or PCM, or silence) and, if asked, an ear that records. */
  async openSimLeg(callSid: string, voice: SimVoice, record: boolean): Promise<MediaLeg> {
    const leg = this.register(callSid, 'sim', record);
    await this.opening(leg, async () => {
      await this.request('createRoom', { roomId: leg.homeRoomId });
      await this.request('addLeg', {
        roomId: leg.homeRoomId,
        legId: callSid,
        kind: 'sim',
        ...(voice.tone ? { tone: voice.tone } : {}),
        ...(voice.pcm ? { voice: voice.pcm } : {}),
        record,
      });
    });
    return leg;
  }

  /** An RTP leg and the local address and port to put in SDP. */
  async openRtpLeg(callSid: string, params: RtpLegParams): Promise<{ leg: MediaLeg; local: RemoteAddress }> {
    if (!this.hasRtpCapacity() && !this.closed) {
      throw new MediaError('ports-exhausted', `every RTP port pair of ${this.options.portRange?.min}-${this.options.portRange?.max} is in use`);
    }
    const leg = this.register(callSid, 'rtp', false);
    this.rtpLegs++;
    void leg.ended.then(() => this.rtpLegs--);
    const local = await this.opening(leg, async () => {
      await this.request('createRoom', { roomId: leg.homeRoomId });
      const added = await this.request('addLeg', {
        roomId: leg.homeRoomId,
        legId: callSid,
        kind: 'rtp',
        codec: params.codec,
        ...(params.payloadType !== undefined ? { payloadType: params.payloadType } : {}),
        ...(params.webrtc ? { webrtc: params.webrtc } : {}),
        ...(params.remote ? { remote: params.remote } : {}),
        telephoneEventPayloadType: params.telephoneEvent,
        ...(params.srtp ? { srtp: params.srtp } : {}),
        ...(params.unanswered ? { rtpTimeoutMs: 0 } : {}),
      });
      if (added.localAddress === null || added.localPort === null) throw new MediaError('internal', 'the RTP leg has no local port');
      return { address: added.localAddress, port: added.localPort };
    });
    return { leg, local };
  }

  /** `<Dial>` bridges: the legs in one room, all heard, all hearing (CallBridge). */
  readonly bridge = {
    join: async (roomId: string, callSids: readonly string[]): Promise<void> => {
      const open = { muted: false, hold: false, waiting: false, canHear: true, coachOf: null };
      const room = this.room(roomId);
      await Promise.all(callSids.flatMap((sid) => this.legs.get(sid) ?? []).map((leg) => leg.enter(room, open)));
    },
    leave: async (callSids: readonly string[]): Promise<void> => {
      const legs = callSids.flatMap((sid) => this.legs.get(sid) ?? []);
      await Promise.all(legs.map((leg) => leg.leave().catch((error: unknown) => this.unlessGone(error, leg.callSid, 'leave the bridge'))));
    },
  };

  /** What a recording simulated leg heard so far (live) or in all (ended). */
  async recording(callSid: string): Promise<Uint8Array | undefined> {
    const leg = this.legs.get(callSid);
    if (leg?.records && !leg.closed) {
      try {
        return this.recordings.add(callSid, await leg.takeRecording());
      } catch (error) {
        if (!isGone(error)) throw error;
      }
    }
    // Closing: its last take is on its way onto the shelf.
    if (leg) await leg.ended;
    return this.recordings.get(callSid);
  }

  /** Logs a media error unless it only says the leg or room is gone (the call ended meanwhile). */
  unlessGone(error: unknown, callSid: string, what: string): void {
    if (!isGone(error)) this.log.warn({ err: error, callSid }, `media: could not ${what}`);
  }

  /** Closes every leg (keeping recordings) and room, then stops the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.legs.values()].map((leg) => leg.close()));
      const client = this.client;
      this.client = undefined;
      this.cascade('hung-up');
      await client?.close();
    })();
    return this.closing;
  }

  /** The workers' figures; undefined while they are not running (they start with the first leg or room). */
  stats(): Promise<EngineStats | undefined> {
    return this.client ? this.client.request('stats', {}) : Promise.resolve(undefined);
  }

  // MediaChannel, for the legs and rooms of this plane.

  request<K extends MediaRequestType>(type: K, params: MediaRequestParams<K>): Promise<MediaRequestResult<K>> {
    let client: MediaClient;
    try {
      client = this.workers();
    } catch (error) {
      return Promise.reject(error);
    }
    return client.request(type, params);
  }

  awaitPlay(playId: number, target: PlayTarget, owner: Set<(played: boolean) => void>, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const stop = (): void => {
        this.client?.request('stopPlay', { target, playId }).catch((error: unknown) => this.unlessGone(error, 'legId' in target ? target.legId : target.roomId, 'stop a play'));
      };
      const settle = (played: boolean): void => {
        if (!owner.delete(settle)) return;
        this.plays.delete(playId);
        signal?.removeEventListener('abort', stop);
        resolve(played);
      };
      owner.add(settle);
      this.plays.set(playId, settle);
      if (signal?.aborted) stop();
      else signal?.addEventListener('abort', stop, { once: true });
    });
  }

  async legClosing(leg: MediaLeg, why: LegEnd): Promise<void> {
    const client = this.client;
    if (!client) return;
    const quietly = (what: string) => (error: unknown) => this.unlessGone(error, leg.callSid, what);
    if (leg.records) {
      const taken = await client.request('takeRecording', { legId: leg.callSid }).catch(quietly('keep what it heard'));
      if (taken) this.recordings.add(leg.callSid, taken.wav);
    }
    // An RTP timeout is the worker's own doing: the leg is gone there already.
    if (why !== 'rtp-timeout') await client.request('removeLeg', { legId: leg.callSid }).catch(quietly('remove the leg'));
    await client.request('destroyRoom', { roomId: leg.homeRoomId }).catch(quietly('destroy its own room'));
  }

  forget(leg: MediaLeg): void {
    if (this.legs.get(leg.callSid) === leg) this.legs.delete(leg.callSid);
  }

  roomClosed(room: MediaRoom): void {
    // Kept while it is destroyed, so a room of the same id waits for it (MediaPlane.room).
    void room.destroyed?.then(() => {
      if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    });
  }

  private register(callSid: string, kind: 'rtp' | 'sim', record: boolean): MediaLeg {
    if (this.closed) throw new MediaError('closed', 'the media plane is closed');
    if (this.legs.has(callSid)) throw new MediaError('exists', `call ${callSid} has a media leg already`);
    const leg = new MediaLeg(callSid, kind, record, this);
    this.legs.set(callSid, leg);
    return leg;
  }

  /** Runs the worker's side of opening; a failure closes the leg (`media-failure`) and is rethrown. */
  private async opening<T>(leg: MediaLeg, open: () => Promise<T>): Promise<T> {
    try {
      return await leg.run(open);
    } catch (error) {
      if (!this.closed) this.log.error({ err: error, callSid: leg.callSid }, 'could not open the media leg');
      await leg.close('media-failure');
      throw error;
    }
  }

  /** The media workers, started on first use — or again, explicitly, after they died. */
  private workers(): MediaClient {
    if (this.closed) throw new MediaError('closed', 'the media plane is closed');
    if (this.client) return this.client;
    if (this.workerFailures > 0) this.log.warn({ failures: this.workerFailures }, 'media: starting new media workers after the last ones failed');
    const { certPem, keyPem } = this.dtlsCertificate();
    const client = new MediaClient({ ...this.options, dtlsCertificate: { certPem, keyPem } });
    client.on('talking', (n) => this.observer.emit('talking', n.legId, n.talking));
    client.on('played', (n) => this.plays.get(n.id)?.(!n.stopped));
    client.on('dtmf', (n) => this.observer.emit('digit', n.legId, n.digit));
    client.on('recorded', ({ tapId, seq, pcm, end }) => this.observer.emit('recorded', { tapId, seq, pcm, end }));
    client.on('legClosed', (n) => {
      if (n.reason === 'rtp-timeout') void this.legs.get(n.legId)?.close('rtp-timeout');
      // The worker closed it (its handshake failed): the call has no media, as on a worker failure.
      else if (n.reason === 'dtls-failed') void this.legs.get(n.legId)?.close('media-failure');
    });
    client.on('error', (error) => this.log.error({ err: error }, 'media worker failed'));
    client.on('exit', (code) => {
      if (this.client !== client || this.closed) return;
      this.log.error({ code }, 'media worker exited; live calls lose their audio');
      this.workerFailures++;
      this.client = undefined;
      this.cascade('media-failure');
    });
    this.client = client;
    client.request('stats', {}).then(
      (stats) => this.reportWorkers(stats.workers ?? []),
      () => undefined, // a worker that failed to start is reported by 'error'/'exit'
    );
    return client;
  }

  private dtlsCertificate(): DtlsCertificate {
    if (this.certificate) return this.certificate;
    const given = this.options.dtlsCertificate;
    this.certificate = given ? { ...given, fingerprint: pemFingerprint(given.certPem) } : createDtlsCertificate();
    return this.certificate;
  }

  /** Every leg and room closes with the plane or its workers; their plays settle. */
  private cascade(why: LegEnd): void {
    for (const leg of [...this.legs.values()]) leg.planeClosed(why);
    for (const room of [...this.rooms.values()]) room.planeClosed();
    this.rooms.clear();
    for (const settle of [...this.plays.values()]) settle(false);
    this.plays.clear();
  }

  /** One line on how the media threads run, and a warning where that is not what was asked. */
  private reportWorkers(workers: WorkerStats[]): void {
    const udp = workers.every((w) => w.udp === 'native') ? 'native' : 'dgram';
    const realtime = workers.length > 0 && workers.every((w) => w.realtime);
    const priority = this.options.realtimePriority ?? 0;
    this.log.info({ workers: workers.length, udp, realtime: realtime ? priority : false }, 'media plane started');
    if (udp === 'dgram' && this.options.udp !== 'dgram') {
      this.log.warn({ reason: nativeUdpError }, 'media sockets use node:dgram, not the native batched UDP module, so each packet costs more CPU (BENCHMARKS.md)');
    }
    if (priority > 0 && !realtime) {
      const note = { priority, setting: 'CONCLAVE_MEDIA_REALTIME' };
      const msg = 'media threads could not get SCHED_FIFO (needs the native module and root or CAP_SYS_NICE); they run at normal priority';
      if (this.realtimeRequired) this.log.warn(note, msg);
      else this.log.info(note, msg);
    }
  }
}
