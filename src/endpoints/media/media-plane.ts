/**
 * The control plane's view of the media worker: one media leg per answered call, named by its
 * CallSid. A leg lives in its own "home" room while the call runs TwiML (`<Play>`, `<Say>`) and
 * moves into the conference's room (named by the ConferenceSid) while it is a participant.
 *
 * The worker handles requests as they come, and some (adding an RTP leg: binding a socket)
 * finish later than the ones after them; so every request about one leg waits for the previous
 * one (a chain per leg), and a mute can never overtake the move into the room. The worker is
 * started on first use: a server that never gets a call never starts a thread.
 */
import { MediaClient, type MediaClientOptions } from '../../media/media-client.js';
import { nativeUdpError } from '../../media/rtp/native-udp.js';
import { RecordingShelf } from './recording-shelf.js';
import type { G711CodecName, LegFlagsPatch, PlayTarget, RemoteAddress, SoundSpec, ToneSpec, WorkerStats } from '../../media/protocol.js';

export interface MediaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type LegEnd = 'hung-up' | 'rtp-timeout' | 'media-failure';

interface LegRecord {
  room: string;
  /** The chain of requests about this leg. */
  chain: Promise<unknown>;
  record: boolean;
  onClosed: (why: LegEnd) => void;
  closing: boolean;
}

export interface SimVoice {
  tone?: ToneSpec;
  pcm?: Int16Array;
}

const HOME_PREFIX = 'call:';

export interface MediaPlaneOptions extends MediaClientOptions {
  /** See MediaConfig.realtimeRequired. */
  realtimeRequired?: boolean;
}

export class MediaPlane {
  private client: MediaClient | undefined;
  private readonly legs = new Map<string, LegRecord>();
  /** Legs in each conference room; the room is destroyed when its last leg leaves. */
  private readonly rooms = new Map<string, Set<string>>();
  private readonly plays = new Map<number, (stopped: boolean) => void>();
  private readonly recordings = new RecordingShelf();
  private talkingListener: (callSid: string, talking: boolean) => void = () => {};
  private closed = false;

  private readonly options: MediaClientOptions;
  /** Whether SCHED_FIFO was asked for explicitly: not getting it is then a warning, else a note. */
  private readonly realtimeRequired: boolean;

  constructor(
    options: MediaPlaneOptions,
    private readonly logger: MediaLogger,
  ) {
    const { realtimeRequired, ...client } = options;
    this.options = client;
    this.realtimeRequired = realtimeRequired ?? false;
  }

  /** Talk detection of every leg (the `speaker` events). */
  onTalking(listener: (callSid: string, talking: boolean) => void): void {
    this.talkingListener = listener;
  }

  private media(): MediaClient {
    if (this.closed) throw new Error('the media plane is closed');
    if (!this.client) {
      const client = new MediaClient(this.options);
      client.on('talking', (n) => this.talkingListener(n.legId, n.talking));
      client.on('played', (n) => {
        this.plays.get(n.id)?.(n.stopped);
        this.plays.delete(n.id);
      });
      client.on('legClosed', (n) => {
        if (n.reason !== 'rtp-timeout') return;
        const leg = this.legs.get(n.legId);
        if (leg) void this.closeLeg(n.legId, 'rtp-timeout');
      });
      client.on('error', (error) => this.logger.error({ err: error }, 'media worker failed'));
      client.on('exit', (code) => {
        if (this.closed) return;
        this.logger.error({ code }, 'media worker exited; live calls lose their audio');
        this.client = undefined;
        for (const [callSid, leg] of this.legs) {
          this.legs.delete(callSid);
          leg.onClosed('media-failure');
        }
      });
      this.client = client;
      client.request('stats', {}).then(
        (stats) => this.reportWorkers(stats.workers ?? []),
        () => undefined, // a worker that failed to start is reported by 'error'/'exit'
      );
    }
    return this.client;
  }

  /** One line on how the media threads run, and a warning where that is not what was asked. */
  private reportWorkers(workers: WorkerStats[]): void {
    const udp = workers.every((w) => w.udp === 'native') ? 'native' : 'dgram';
    const realtime = workers.length > 0 && workers.every((w) => w.realtime);
    const priority = this.options.realtimePriority ?? 0;
    this.logger.info({ workers: workers.length, udp, realtime: realtime ? priority : false }, 'media plane started');
    if (udp === 'dgram' && this.options.udp !== 'dgram') {
      this.logger.warn({ reason: nativeUdpError }, 'media sockets use node:dgram, not the native batched UDP module, so each packet costs more CPU (BENCHMARKS.md)');
    }
    if (priority > 0 && !realtime) {
      const note = { priority, setting: 'CONCLAVE_MEDIA_REALTIME' };
      const msg = 'media threads could not get SCHED_FIFO (needs the native module and root or CAP_SYS_NICE); they run at normal priority';
      if (this.realtimeRequired) this.logger.warn(note, msg);
      else this.logger.info(note, msg);
    }
  }

  has(callSid: string): boolean {
    return this.legs.has(callSid);
  }

  /** Runs `op` after every earlier request about this leg. */
  private enqueue<T>(callSid: string, op: (leg: LegRecord) => Promise<T>): Promise<T> {
    const leg = this.legs.get(callSid);
    if (!leg) return Promise.reject(new Error(`no media leg for ${callSid}`));
    const next = leg.chain.catch(() => undefined).then(() => op(leg));
    leg.chain = next;
    return next;
  }

  /** A simulated endpoint's leg: its voice (a tone or PCM, or silence) and, if asked, an ear that records. */
  async openSimLeg(callSid: string, voice: SimVoice, record: boolean, onClosed: (why: LegEnd) => void): Promise<void> {
    const home = HOME_PREFIX + callSid;
    const leg = this.register(callSid, home, record, onClosed);
    await this.enqueue(callSid, async () => {
      const media = this.media();
      await media.request('createRoom', { roomId: home });
      await media.request('addLeg', {
        roomId: home,
        legId: callSid,
        kind: 'sim',
        ...(voice.tone ? { tone: voice.tone } : {}),
        ...(voice.pcm ? { voice: voice.pcm } : {}),
        record,
      });
    }).catch((error: unknown) => this.failed(callSid, leg, error));
  }

  /** An RTP leg; resolves with the local address and port to put in SDP. */
  async openRtpLeg(
    callSid: string,
    /** `unanswered`: the call is not answered yet; its RTP timeout starts with `answered`. */
    params: { codec: G711CodecName; remote?: RemoteAddress; telephoneEvent: number | null; unanswered?: boolean },
    onClosed: (why: LegEnd) => void,
  ): Promise<RemoteAddress> {
    const home = HOME_PREFIX + callSid;
    const leg = this.register(callSid, home, false, onClosed);
    return this.enqueue(callSid, async () => {
      const media = this.media();
      await media.request('createRoom', { roomId: home });
      const added = await media.request('addLeg', {
        roomId: home,
        legId: callSid,
        kind: 'rtp',
        codec: params.codec,
        ...(params.remote ? { remote: params.remote } : {}),
        telephoneEventPayloadType: params.telephoneEvent,
        ...(params.unanswered ? { rtpTimeoutMs: 0 } : {}),
      });
      if (added.localAddress === null || added.localPort === null) throw new Error('the RTP leg has no local port');
      return { address: added.localAddress, port: added.localPort };
    }).catch((error: unknown) => {
      this.failed(callSid, leg, error);
      throw error;
    });
  }

  private register(callSid: string, room: string, record: boolean, onClosed: (why: LegEnd) => void): LegRecord {
    if (this.legs.has(callSid)) throw new Error(`call ${callSid} has a media leg already`);
    const leg: LegRecord = { room, chain: Promise.resolve(), record, onClosed, closing: false };
    this.legs.set(callSid, leg);
    return leg;
  }

  private failed(callSid: string, leg: LegRecord, error: unknown): void {
    this.logger.error({ err: error, callSid }, 'could not open the media leg');
    if (this.legs.get(callSid) === leg) this.legs.delete(callSid);
    leg.onClosed('media-failure');
  }

  /** Where the leg sends (the peer's SDP), and with which codec. */
  /** The call of a leg opened `unanswered` was answered: its RTP timeout starts now. */
  answered(callSid: string): Promise<void> {
    return this.enqueue(callSid, async () => {
      await this.media().request('startRtpTimeout', { legId: callSid });
    });
  }

  setRemote(callSid: string, remote: RemoteAddress, codec?: G711CodecName): Promise<void> {
    return this.enqueue(callSid, async () => {
      await this.media().request('setRemote', { legId: callSid, ...remote, ...(codec ? { codec } : {}) });
    });
  }

  /** Moves the leg into a conference room (created on demand) with its flags. */
  enterRoom(callSid: string, roomId: string, flags: LegFlagsPatch): Promise<void> {
    return this.enqueue(callSid, async (leg) => {
      const media = this.media();
      if (leg.room === roomId) {
        await media.request('setLeg', { legId: callSid, ...flags });
        return;
      }
      // Counted as a member before the move, so a last leg leaving meanwhile keeps the room.
      let members = this.rooms.get(roomId);
      if (!members) {
        this.rooms.set(roomId, (members = new Set()));
        void media.request('createRoom', { roomId }).catch(() => undefined);
      }
      members.add(callSid);
      try {
        await media.request('moveLeg', { legId: callSid, roomId, flags });
      } catch (error) {
        await this.leftRoomAsync(callSid, roomId);
        throw error;
      }
      const left = leg.room;
      leg.room = roomId;
      await this.leftRoomAsync(callSid, left);
    });
  }

  /** `<Dial>` bridges: the legs in one room, all heard, all hearing (CallBridge). */
  readonly bridge = {
    join: async (roomId: string, callSids: readonly string[]): Promise<void> => {
      const open = { muted: false, hold: false, waiting: false, canHear: true, coachOf: null };
      await Promise.all(callSids.filter((sid) => this.has(sid)).map((sid) => this.enterRoom(sid, roomId, open)));
    },
    leave: async (callSids: readonly string[]): Promise<void> => {
      await Promise.all(callSids.filter((sid) => this.has(sid)).map((sid) => this.leaveRoom(sid).catch(() => undefined)));
    },
  };

  /** Moves the leg back to its home room (the call goes on after `<Dial>`). */
  leaveRoom(callSid: string): Promise<void> {
    return this.enqueue(callSid, async (leg) => {
      const home = HOME_PREFIX + callSid;
      if (leg.room === home) return;
      await this.media().request('moveLeg', { legId: callSid, roomId: home });
      const left = leg.room;
      leg.room = home;
      await this.leftRoomAsync(callSid, left);
    });
  }

  setFlags(callSid: string, flags: LegFlagsPatch): Promise<void> {
    return this.enqueue(callSid, async () => {
      await this.media().request('setLeg', { legId: callSid, ...flags });
    });
  }

  /** What the leg hears on hold and while waiting (undefined: built-in music, null: silence). */
  setSources(callSid: string, sources: { hold?: SoundSpec | null; wait?: SoundSpec | null }): Promise<void> {
    return this.enqueue(callSid, async () => {
      await this.media().request('setSources', { legId: callSid, ...sources });
    });
  }

  /** The conference room a leg is in, if any. */
  roomOf(callSid: string): string | undefined {
    const room = this.legs.get(callSid)?.room;
    return room === undefined || room.startsWith(HOME_PREFIX) ? undefined : room;
  }

  /**
   * Plays a sound to a leg or to a conference room; resolves when it has played (true) or was
   * stopped (false). `signal` stops it.
   */
  async play(target: { callSid: string } | { roomId: string }, sound: SoundSpec, signal?: AbortSignal): Promise<boolean> {
    const playTarget: PlayTarget = 'callSid' in target ? { legId: target.callSid } : { roomId: target.roomId };
    const start = async (): Promise<number> => (await this.media().request('play', { target: playTarget, sound })).playId;
    if ('roomId' in target && !this.rooms.has(target.roomId)) return false;
    const playId = 'callSid' in target ? await this.enqueue(target.callSid, start) : await start();
    const done = new Promise<boolean>((resolve) => this.plays.set(playId, (stopped) => resolve(!stopped)));
    if (signal) {
      const stop = (): void => void this.media().request('stopPlay', { target: playTarget, playId }).catch(() => undefined);
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
      void done.finally(() => signal.removeEventListener('abort', stop));
    }
    return done;
  }

  /** Ends the leg (the call ended); keeps what a recording leg heard. Idempotent. */
  closeLeg(callSid: string, why: LegEnd = 'hung-up'): Promise<void> {
    const leg = this.legs.get(callSid);
    if (!leg || leg.closing) return Promise.resolve();
    leg.closing = true;
    return this.enqueue(callSid, async () => {
      if (this.closed || !this.client) return;
      const media = this.client;
      if (leg.record) {
        const taken = await media.request('takeRecording', { legId: callSid }).catch(() => undefined);
        if (taken) this.recordings.add(callSid, taken.wav);
      }
      if (why !== 'rtp-timeout') await media.request('removeLeg', { legId: callSid }).catch(() => undefined);
      await media.request('destroyRoom', { roomId: HOME_PREFIX + callSid }).catch(() => undefined);
      await this.leftRoomAsync(callSid, leg.room);
    })
      .catch((error: unknown) => this.logger.warn({ err: error, callSid }, 'media: could not close the leg cleanly'))
      .finally(() => {
        this.legs.delete(callSid);
        leg.onClosed(why);
      });
  }

  /** What a recording simulated leg heard so far (live) or in all (ended). */
  async recording(callSid: string): Promise<Uint8Array | undefined> {
    const leg = this.legs.get(callSid);
    // Closing: its last take is on its way into `recordings`.
    if (leg?.closing) await leg.chain.catch(() => undefined);
    if (leg?.record && !leg.closing) {
      const taken = await this.enqueue(callSid, () => this.media().request('takeRecording', { legId: callSid }));
      return this.recordings.add(callSid, taken.wav);
    }
    return this.recordings.get(callSid);
  }

  private async leftRoomAsync(callSid: string, roomId: string): Promise<void> {
    const members = this.rooms.get(roomId);
    if (!members) return;
    members.delete(callSid);
    if (members.size > 0) return;
    this.rooms.delete(roomId);
    await this.client?.request('destroyRoom', { roomId }).catch(() => undefined);
  }

  /** Closes every leg (keeping recordings), then stops the worker. */
  async close(): Promise<void> {
    await Promise.all([...this.legs.keys()].map((callSid) => this.closeLeg(callSid)));
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
