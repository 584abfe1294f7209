/**
 * This node's membership of the deployment (PostgreSQL): it registers with a lease and renews it
 * several times per lease; it watches the others' leases and, when one lapses (killed,
 * partitioned, frozen), races to declare it dead — one conditional UPDATE, so exactly one
 * survivor wins — and the winner clears what the dead node left (`onDeath`: reap-node.ts).
 * Leases are compared in the database's clock, so skewed node clocks never kill anyone.
 *
 * A node that finds itself declared dead (its renewal is refused, or the channel tells its
 * death) has had its calls ended and its conferences moved by a survivor: it must not go on as
 * if nothing happened. It joins again under a new id, as a new node, and `onFenced` ends what
 * it still runs under the former id (nothing is written for the calls the survivor ended: those
 * are final already; a call taken after the survivor had cleared the node — a request read
 * when a frozen process thawed — is ended and told here, once).
 */
import { randomBytes } from 'node:crypto';
import type { ClusterChannel } from '../../domain/cluster.js';
import type { Store } from '../../domain/ports.js';
import type { LocalNode } from '../context.js';

export interface MembershipLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MembershipOptions {
  /** How long a node lives without renewing (CONCLAVE_NODE_LEASE_MS). */
  leaseMs: number;
  /** Where other nodes reach this one (CONCLAVE_NODE_ADDRESS), its HTTP URL and SIP address once known. */
  address: string;
  httpUrl?: string | null;
  sipAddress?: string | null;
  /** The winner of a death clears the dead node. */
  onDeath(deadNodeId: string): Promise<void>;
  /**
   * This node was declared dead: end, quietly, every call it runs at the instant this is called
   * (before its first await), and resolve once they have ended. Called once the node has joined
   * again under its new id, so the calls it takes from then on are not among them.
   */
  onFenced(formerId: string): Promise<void>;
  logger: MembershipLogger;
}

/** Dead and departed nodes are forgotten after a day. */
const FORGET_AFTER_MS = 24 * 3600_000;

export function newNodeId(): string {
  return `n-${randomBytes(6).toString('hex')}`;
}

/** A LocalNode whose id changes when the node rejoins after being declared dead. */
export class MemberNode implements LocalNode {
  readonly clustered = true;
  constructor(public id: string) {}
}

export class NodeMembership {
  private renewTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private fencing: Promise<void> | undefined;
  private renewFailing = false;
  private readonly reaping = new Set<Promise<void>>();
  private readonly stopListening: () => void;

  private constructor(
    private readonly store: Store,
    readonly node: MemberNode,
    private readonly options: MembershipOptions,
    channel: ClusterChannel | undefined,
  ) {
    this.stopListening =
      channel?.subscribe((message) => {
        if (message.t === 'node-dead' && message.node === this.node.id) void this.fence();
      }) ?? (() => undefined);
  }

  /** Registers the node and starts renewing its lease and watching the others'. */
  static async join(store: Store, node: MemberNode, options: MembershipOptions, channel: ClusterChannel | undefined): Promise<NodeMembership> {
    const membership = new NodeMembership(store, node, options, channel);
    await membership.register();
    await membership.countPeers();
    membership.schedule();
    return membership;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The HTTP and SIP addresses are known once the node listens: told at the next registration. */
  setAddresses(httpUrl: string | null, sipAddress: string | null): void {
    this.options.httpUrl = httpUrl;
    this.options.sipAddress = sipAddress;
  }

  /** Runs one round of lease checks now (tests; the timer does it every quarter lease). */
  async watch(): Promise<void> {
    if (this.isClosed) return;
    let expired;
    try {
      expired = await this.store.listExpiredNodes();
    } catch {
      return; // the database is unavailable: the store has told it; the next round tries again
    }
    for (const dead of expired) {
      if (dead.id === this.node.id) continue; // our own renewal is late: renew() decides
      let won = false;
      try {
        won = await this.store.declareNodeDead(dead.id);
      } catch {
        continue;
      }
      if (!won) continue;
      this.options.logger.warn({ node: dead.id, address: dead.address, leaseLapsedMs: Date.now() - dead.leaseUntil }, 'a node stopped renewing its lease: declared dead, clearing its calls and conferences');
      const reaping = this.options
        .onDeath(dead.id)
        .catch((error: unknown) => this.options.logger.error({ err: error, node: dead.id }, 'could not clear everything a dead node left'))
        .finally(() => this.reaping.delete(reaping));
      this.reaping.add(reaping);
      await reaping;
    }
    await this.clearLeftovers();
    await this.countPeers();
    await this.store.forgetNodes(FORGET_AFTER_MS).catch(() => undefined);
  }

  /**
   * What still names a node that is gone — a call inserted under its id while it was being
   * declared dead, a conference homed at a node whose stop ran out of time or that left while
   * other nodes' calls were still in it — is cleared as a death is (every survivor may try:
   * ending a call and moving a home are conditional writes, so each happens once).
   */
  private async clearLeftovers(): Promise<void> {
    let gone: string[];
    try {
      gone = await this.store.listGoneNodesWithLeftovers();
    } catch {
      return;
    }
    for (const id of gone) {
      if (id === this.node.id || this.isClosed) continue;
      await this.options.onDeath(id).catch((error: unknown) => this.options.logger.error({ err: error, node: id }, 'could not clear what a node that is gone left'));
    }
  }

  /** Tells the store whether other nodes are live (its participant cache serves only alone). */
  private async countPeers(): Promise<void> {
    try {
      const live = await this.store.listLiveNodes();
      this.store.setPeerCount(live.filter((n) => n.id !== this.node.id).length);
    } catch {
      // Unknown: keep the last count; the next round tries again.
    }
  }

  /** Stops renewing and watching; a clean stop marks the node `left` (nobody clears it). Idempotent. */
  async close(left = true): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopListening();
    clearTimeout(this.renewTimer);
    clearTimeout(this.watchTimer);
    await Promise.all([...this.reaping]);
    if (left) await this.store.markNodeLeft(this.node.id).catch(() => undefined);
  }

  private register(id = this.node.id): Promise<void> {
    return this.store.registerNode({
      id,
      address: this.options.address,
      httpUrl: this.options.httpUrl ?? null,
      sipAddress: this.options.sipAddress ?? null,
      leaseMs: this.options.leaseMs,
    });
  }

  private schedule(): void {
    const every = Math.max(100, Math.floor(this.options.leaseMs / 4));
    const renew = (): void => {
      this.renewTimer = setTimeout(() => void this.renew().finally(() => !this.isClosed && renew()), every);
      this.renewTimer.unref();
    };
    const watch = (): void => {
      this.watchTimer = setTimeout(() => void this.watch().finally(() => !this.isClosed && watch()), every);
      this.watchTimer.unref();
    };
    renew();
    watch();
  }

  private async renew(): Promise<void> {
    if (this.isClosed || this.fencing) return;
    let live: boolean;
    try {
      live = await this.store.renewNode(this.node.id, this.options.leaseMs);
    } catch (error) {
      // Unreachable database: nobody else can declare this node dead through it either, unless
      // it answers them; the next renewal finds out which.
      if (!this.renewFailing) this.options.logger.warn({ err: error, node: this.node.id }, 'could not renew this node\'s lease');
      this.renewFailing = true;
      return;
    }
    this.renewFailing = false;
    if (!live) await this.fence();
  }

  /**
   * Declared dead by the others: join again as a new node, then end what runs here under the
   * former id. The new id is registered first and taken in the same synchronous step that hands
   * the running calls to `onFenced`: every call running then was taken under the former id, and
   * every call taken afterwards is the new node's, whose lease is renewed from then on. Ending
   * first and rejoining after would leave the node unregistered, taking calls under a dead id that
   * no survivor clears again, for as long as any call it took meanwhile lasts — a conference
   * call, until someone hangs it up.
   */
  private fence(): Promise<void> {
    this.fencing ??= (async () => {
      const former = this.node.id;
      this.options.logger.error(
        { node: former },
        'this node was declared dead by the others (its lease lapsed): its calls were ended and its conferences moved; ending what still runs here and rejoining as a new node',
      );
      const next = newNodeId();
      for (;;) {
        if (this.isClosed) return;
        try {
          await this.register(next);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        }
      }
      this.node.id = next;
      // Not awaited: the calls may take a while to end, and the new node renews its lease meanwhile.
      void this.options.onFenced(former).catch((error: unknown) => this.options.logger.error({ err: error, node: former }, 'could not end everything this node ran'));
      this.options.logger.info({ node: next, former }, 'rejoined as a new node');
    })().finally(() => {
      this.fencing = undefined;
    });
    return this.fencing;
  }
}
