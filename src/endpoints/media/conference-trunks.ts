/**
 * One conference, one room, whichever nodes its calls are on (issue 11 §3): cascaded mixers.
 *
 * Each node mixes the calls it runs in its own room of the conference, and every node other
 * than the conference's home links its room to the home's room with one RTP leg each way — a
 * trunk. A trunk is a member of both rooms like any call, so each mixer sends it what every
 * other member says and nothing of what came in on it (N-1, mixer.ts): the home hears the
 * remote node's callers as one voice, the remote node hears the home's callers and every other
 * remote node's, relayed by the home. Mute, hold and coaching stay where the call is: a muted
 * caller never reaches its node's mix, so never reaches the trunk.
 *
 * Why cascaded mixers and not the other two designs the issue names:
 * - a per-call RTP relay to the home node costs one leg on two nodes per remote caller and
 *   makes the home mix every caller, so the home node's capacity is the conference's;
 * - re-INVITEing the phone's media to the home node needs every phone and carrier to accept a
 *   re-INVITE mid-call (many do not, and sim endpoints have no SIP at all) and moves the load
 *   onto one node as well.
 * Cascading costs one leg pair per node and conference, whatever the number of callers, and
 * each node mixes only its own calls; the price is one more mixing hop — a jitter buffer and
 * a 20 ms frame — between callers on different nodes, and coaching only works between calls
 * on one node (a coach's voice is heard only by its coached call's leg; a trunk is not that
 * leg). FreeSWITCH links conferences across servers the same way (mod_conference bridged by
 * an RTP leg), and so does a cascaded SFU of mediasoup (pipeToRouter), on the forwarding side.
 *
 * The star is centred on the home so that what the whole conference hears — beeps,
 * conference-wide announcements — is played once, on the home's room, and reaches every node
 * through its trunk. Trunks carry G.711 μ-law without telephone events (DTMF stays on the
 * caller's node), and have no RTP timeout: they end with the conference, when the last local
 * caller leaves, when the home moves (a survivor took over a dead home: reap-node.ts), or when
 * the other end's node is declared dead.
 *
 * The home's end is opened by a request through the node commands (node-commands.ts): the
 * remote node opens its end first, asks the home to open its own towards it, then points its
 * end at the answer.
 */
import type { Conference } from '../../domain/model.js';
import type { LegFlagsPatch, RemoteAddress } from '../../media/protocol.js';
import type { MediaLeg } from './media-leg.js';
import type { MediaLogger } from './media-channel.js';
import type { MediaPlane } from './media-plane.js';

/** What a remote node asks of the home: open your end of the trunk towards `address:port`. */
export interface TrunkRequest {
  conferenceSid: string;
  /** The asking node. */
  node: string;
  address: string;
  port: number;
}

/** How trunk ends are asked for and given up (the node commands, wired in app.ts). */
export interface TrunkSignal {
  /** Asks `home` to open its end; resolves with where that end listens. */
  open(home: string, request: TrunkRequest): Promise<RemoteAddress>;
  /** Tells `home` that this node's end is gone. */
  close(home: string, request: { conferenceSid: string; node: string }): Promise<void>;
}

export interface TrunkNode {
  readonly id: string;
  readonly clustered: boolean;
}

/** The media legs of trunks are named `trunk:<ConferenceSid>:to|from:<node>`; no CallSid starts so. */
export const TRUNK_LEG_PREFIX = 'trunk:';

/** Heard by all, hearing all: a trunk is the other node's room as one member. */
const OPEN: LegFlagsPatch = { muted: false, hold: false, waiting: false, canHear: true, coachOf: null };
/** An uplink the home could not open is asked for again after this long while it is needed. */
const RETRY_MS = 1000;

interface Uplink {
  home: string;
  leg: MediaLeg | undefined;
  retry: NodeJS.Timeout | undefined;
}

interface Downlink {
  leg: MediaLeg;
  port: number;
}

export class ConferenceTrunks {
  /** Calls run here that are in each conference's room. */
  private readonly locals = new Map<string, Set<string>>();
  /** Each conference's home node, as last told (events and moves, in commit order). */
  private readonly homes = new Map<string, string>();
  /** This node's trunk to the home of each conference homed elsewhere. */
  private readonly uplinks = new Map<string, Uplink>();
  /** The trunks other nodes opened to conferences homed here, by `conference node`. */
  private readonly downlinks = new Map<string, Downlink>();
  /** Each conference's uplink changes, one after another. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Nodes declared dead: nothing is asked of them. */
  private readonly dead = new Set<string>();
  private isClosed = false;

  constructor(
    private readonly plane: MediaPlane,
    private readonly node: TrunkNode,
    /** Where other nodes send this node's trunks RTP (CONCLAVE_NODE_ADDRESS). */
    private readonly address: string,
    private readonly signal: TrunkSignal,
    private readonly log: MediaLogger,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether this node plays what the whole conference hears (beeps, announcements). */
  isHome(conference: Conference): boolean {
    return !this.node.clustered || this.homeOf(conference) === this.node.id;
  }

  /** A conference's record as an event carries it: its home, as committed. */
  seen(conference: Conference): void {
    if (conference.homeNodeId === undefined) return;
    this.moved(conference.sid, conference.homeNodeId);
  }

  /** A call run here entered the conference's room. */
  entered(conference: Conference, callSid: string): void {
    if (!this.node.clustered || this.isClosed) return;
    this.seen(conference);
    let locals = this.locals.get(conference.sid);
    if (!locals) this.locals.set(conference.sid, (locals = new Set()));
    locals.add(callSid);
    this.reconcile(conference.sid);
  }

  /** A call run here left the conference's room (or ended). */
  left(conferenceSid: string, callSid: string): void {
    const locals = this.locals.get(conferenceSid);
    if (!locals?.delete(callSid)) return;
    if (locals.size === 0) this.locals.delete(conferenceSid);
    this.reconcile(conferenceSid);
  }

  /** The conference ended: every trunk of it goes, on both ends. */
  ended(conferenceSid: string): void {
    this.locals.delete(conferenceSid);
    this.reconcile(conferenceSid);
    this.homes.delete(conferenceSid);
    for (const [key, downlink] of this.downlinks) if (key.startsWith(`${conferenceSid} `)) this.dropDownlink(key, downlink);
  }

  /** The conference's home moved (its home died): link to the new one. */
  moved(conferenceSid: string, home: string): void {
    if (this.homes.get(conferenceSid) === home) return;
    this.homes.set(conferenceSid, home);
    if (this.uplinks.has(conferenceSid) || this.locals.has(conferenceSid)) this.reconcile(conferenceSid);
  }

  /** A node was declared dead: its trunks carry nothing any more. */
  nodeDead(nodeId: string): void {
    this.dead.add(nodeId);
    for (const [key, downlink] of this.downlinks) if (key.endsWith(` ${nodeId}`)) this.dropDownlink(key, downlink);
    for (const [conferenceSid, uplink] of this.uplinks) if (uplink.home === nodeId) this.reconcile(conferenceSid);
  }

  /** The home's side: open (or re-point) this node's end of a remote node's trunk. */
  async accept(request: TrunkRequest): Promise<RemoteAddress> {
    const key = `${request.conferenceSid} ${request.node}`;
    const remote = { address: request.address, port: request.port };
    const known = this.downlinks.get(key);
    if (known && !known.leg.closed) {
      await known.leg.setRemote(remote, 'PCMU');
      return { address: this.address, port: known.port };
    }
    const { leg, local } = await this.plane.openRtpLeg(`${TRUNK_LEG_PREFIX}${request.conferenceSid}:from:${request.node}`, {
      codec: 'PCMU',
      remote,
      telephoneEvent: null,
      unanswered: true,
    });
    try {
      await leg.enter(this.plane.room(request.conferenceSid), OPEN);
    } catch (error) {
      await leg.close();
      throw error;
    }
    this.downlinks.set(key, { leg, port: local.port });
    void leg.ended.then(() => {
      if (this.downlinks.get(key)?.leg === leg) this.downlinks.delete(key);
    });
    return { address: this.address, port: local.port };
  }

  /** The home's side: a remote node closed its end. */
  drop(conferenceSid: string, nodeId: string): void {
    const key = `${conferenceSid} ${nodeId}`;
    const downlink = this.downlinks.get(key);
    if (downlink) this.dropDownlink(key, downlink);
  }

  /** The node was fenced (declared dead, its calls ended): every trunk goes; new ones may come. */
  async reset(): Promise<void> {
    this.locals.clear();
    const legs = [...this.downlinks.values()].map((d) => d.leg);
    this.downlinks.clear();
    for (const conferenceSid of [...this.uplinks.keys()]) this.reconcile(conferenceSid);
    await Promise.all([...legs.map((leg) => leg.close()), ...this.chains.values()]);
    // After the uplinks closed, so that each home was told.
    this.homes.clear();
  }

  /** Closes every trunk (the node stops); the homes are told. Idempotent. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.reset();
  }

  private homeOf(conference: Conference): string {
    return this.homes.get(conference.sid) ?? conference.homeNodeId ?? this.node.id;
  }

  private dropDownlink(key: string, downlink: Downlink): void {
    this.downlinks.delete(key);
    void downlink.leg.close();
  }

  /** Brings the conference's uplink in line with what is wanted now, after earlier changes. */
  private reconcile(conferenceSid: string): void {
    const previous = this.chains.get(conferenceSid) ?? Promise.resolve();
    const next = previous.then(() => this.step(conferenceSid)).catch((error: unknown) => this.log.warn({ err: error, conferenceSid }, 'media: could not link the conference to its home node'));
    this.chains.set(conferenceSid, next);
    void next.then(() => {
      if (this.chains.get(conferenceSid) === next) this.chains.delete(conferenceSid);
    });
  }

  private async step(conferenceSid: string): Promise<void> {
    const home = this.homes.get(conferenceSid);
    const wanted = !this.isClosed && this.locals.has(conferenceSid) && home !== undefined && home !== this.node.id ? home : undefined;
    const uplink = this.uplinks.get(conferenceSid);
    if (uplink && (uplink.leg === undefined || uplink.leg.closed || uplink.home !== wanted)) {
      this.uplinks.delete(conferenceSid);
      clearTimeout(uplink.retry);
      if (uplink.leg) {
        await uplink.leg.close();
        // A home that died or lost the conference has nothing to close.
        if (uplink.home === home && !this.dead.has(uplink.home)) {
          await this.signal.close(uplink.home, { conferenceSid, node: this.node.id }).catch((error: unknown) => this.log.warn({ err: error, conferenceSid }, 'media: could not tell the home node the trunk closed'));
        }
      }
    }
    if (wanted === undefined || this.uplinks.has(conferenceSid)) return;
    const link: Uplink = { home: wanted, leg: undefined, retry: undefined };
    this.uplinks.set(conferenceSid, link);
    try {
      const leg = await this.openUplink(conferenceSid, wanted);
      link.leg = leg;
      // A trunk the media plane lost (its worker failed) is opened again while needed.
      void leg.ended.then(() => {
        if (this.uplinks.get(conferenceSid) === link) this.reconcile(conferenceSid);
      });
    } catch (error) {
      // Kept without a leg, so that the next step (the retry, or any change) starts afresh.
      this.log.warn({ err: error, conferenceSid, home: wanted, retryInMs: RETRY_MS }, 'media: the home node did not open its end of the trunk; asking again');
      link.retry = setTimeout(() => this.reconcile(conferenceSid), RETRY_MS).unref();
    }
  }

  private async openUplink(conferenceSid: string, home: string): Promise<MediaLeg> {
    const { leg, local } = await this.plane.openRtpLeg(`${TRUNK_LEG_PREFIX}${conferenceSid}:to:${home}`, { codec: 'PCMU', telephoneEvent: null, unanswered: true });
    try {
      await leg.enter(this.plane.room(conferenceSid), OPEN);
      const remote = await this.signal.open(home, { conferenceSid, node: this.node.id, address: this.address, port: local.port });
      await leg.setRemote(remote, 'PCMU');
      return leg;
    } catch (error) {
      await leg.close();
      throw error;
    }
  }
}
