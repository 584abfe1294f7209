/**
 * Commands between nodes, on PostgreSQL (the issue asks the command path be the database, not
 * a second service): a command is a row addressed to a node plus the NOTIFY its insert makes
 * (migration 0005). The node takes each of its commands once (a conditional DELETE/UPDATE), in
 * the order they arrive, and carries it out; a request's answer is stored in the row and
 * NOTIFYed back to the node that asked, which collects it. After the listening connection
 * drops and returns, the node takes whatever is still pending for it (nothing is lost with the
 * notification); a dead node's commands are dropped and its requests failed by the survivor
 * that clears it (reap-node.ts), so nothing waits for a node that is gone.
 *
 * A command for this node itself never touches the database: it runs here, at once.
 */
import type { ClusterChannel, ClusterMessage } from '../../domain/cluster.js';
import type { Store } from '../../domain/ports.js';
import { NodeUnavailableError } from '../../errors.js';
import type { LocalNode } from '../context.js';

export type CommandHandler = (payload: unknown) => Promise<unknown>;

export interface CommandLogger {
  warn(obj: object, msg: string): void;
}

/** How long a request waits for its answer unless told otherwise. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Answers that arrived before their request's waiter was set, kept this long. */
const EARLY_REPLY_MS = 60_000;

interface Waiter {
  resolve(): void;
}

export class NodeCommands {
  private readonly handlers = new Map<string, CommandHandler>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly earlyReplies = new Map<number, number>();
  /** Command ids to take, in the order they arrived; taken one at a time. */
  private readonly queue: number[] = [];
  private taking = false;
  private readonly running = new Set<Promise<void>>();
  private isClosed = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly node: LocalNode,
    private readonly logger: CommandLogger,
    channel: ClusterChannel | undefined,
  ) {
    if (channel) {
      this.unsubscribe.push(channel.subscribe((message) => this.onMessage(message)));
      this.unsubscribe.push(channel.onResumed(() => void this.catchUp()));
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** What this node does with commands of `kind`. */
  handle(kind: string, handler: CommandHandler): void {
    this.handlers.set(kind, handler);
  }

  /** A one-way command: carried out by `nodeId` once, without an answer. */
  async send(nodeId: string, kind: string, payload: unknown): Promise<void> {
    if (nodeId === this.node.id) {
      await this.runLocally(kind, payload);
      return;
    }
    const id = await this.store.insertCommand({ nodeId, kind, payload: JSON.stringify(payload), replyTo: null });
    await this.unlessGone(nodeId, id, kind);
  }

  /**
   * A request: resolves with what `nodeId` answered, or rejects with its error; a node that does
   * not answer within `timeoutMs` (or is declared dead meanwhile) is a NodeUnavailableError.
   */
  async request<T>(nodeId: string, kind: string, payload: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    if (nodeId === this.node.id) return (await this.runLocally(kind, payload)) as T;
    const id = await this.store.insertCommand({ nodeId, kind, payload: JSON.stringify(payload), replyTo: this.node.id });
    await this.unlessGone(nodeId, id, kind);
    const answered = this.earlyReplies.delete(id) || (await this.awaitReply(id, timeoutMs));
    const reply = answered ? await this.store.takeReply(id) : undefined;
    if (!reply) {
      // Given up: the row goes, so a late answer is not kept for ever.
      await this.store.deleteCommand(id).catch(() => undefined);
      throw new NodeUnavailableError(`node ${nodeId} did not answer within ${timeoutMs} ms (${kind})`);
    }
    if (!reply.ok) throw new NodeUnavailableError(`node ${nodeId} could not ${kind}: ${reply.result}`);
    return (reply.result === '' ? undefined : JSON.parse(reply.result)) as T;
  }

  /**
   * A node declared dead, or that left, takes no more commands; the survivor that cleared a dead
   * one dropped what was addressed to it, but not what is inserted after that. Such a command
   * goes at once and the caller hears the node is unavailable, rather than waiting out the
   * timeout (30 s for a recording) with the row pending, or leaving a one-way command pending for
   * ever. Read after the insert: a death is written before its drop, so a command either is
   * dropped by the survivor or finds the node dead here.
   */
  private async unlessGone(nodeId: string, id: number, kind: string): Promise<void> {
    // A database that cannot say leaves the command to the usual path (its answer, or the timeout).
    const target = await this.store.findNode(nodeId).catch(() => ({ state: 'live' as const }));
    if (target !== undefined && target.state === 'live') return;
    await this.store.deleteCommand(id).catch(() => undefined);
    throw new NodeUnavailableError(`node ${nodeId} is ${target?.state ?? 'gone'} (${kind})`);
  }

  /** Resolves when no command is being carried out (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.taking) await Promise.all([...this.running, Promise.resolve()]);
  }

  close(): void {
    this.isClosed = true;
    for (const stop of this.unsubscribe) stop();
    for (const waiter of this.waiters.values()) waiter.resolve();
    this.waiters.clear();
  }

  /** Takes every command still pending for this node (after a reconnect, at start). */
  async catchUp(): Promise<void> {
    if (this.isClosed) return;
    try {
      for (const id of await this.store.listPendingCommands(this.node.id)) this.enqueue(id);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for commands left for this node');
    }
    // Answers that arrived while not listening: their waiters look again.
    for (const waiter of this.waiters.values()) waiter.resolve();
  }

  private onMessage(message: ClusterMessage): void {
    if (message.t === 'command' && message.node === this.node.id) this.enqueue(message.id);
    else if (message.t === 'reply' && message.node === this.node.id) {
      const waiter = this.waiters.get(message.id);
      if (waiter) waiter.resolve();
      else this.rememberEarly(message.id);
    }
  }

  private rememberEarly(id: number): void {
    const now = Date.now();
    this.earlyReplies.set(id, now);
    for (const [old, at] of this.earlyReplies) {
      if (now - at < EARLY_REPLY_MS) break;
      this.earlyReplies.delete(old);
    }
  }

  /** True once told the answer is there (or told to look), false at the timeout. */
  private awaitReply(id: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(id, {
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(id);
          resolve(true);
        },
      });
    });
  }

  private enqueue(id: number): void {
    if (this.isClosed) return;
    this.queue.push(id);
    void this.takeAll();
  }

  /** Takes the queued commands one at a time, in arrival order; each runs as soon as it is taken. */
  private async takeAll(): Promise<void> {
    if (this.taking) return;
    this.taking = true;
    try {
      for (let id = this.queue.shift(); id !== undefined && !this.isClosed; id = this.queue.shift()) {
        let command;
        try {
          command = await this.store.takeCommand(id, this.node.id);
        } catch (error) {
          this.logger.warn({ err: error, command: id }, 'could not take a command; it is taken when the database answers again');
          continue;
        }
        if (!command) continue; // taken already (a repeated notification, a replay)
        const { kind, payload, replyTo } = command;
        const run = this.execute(kind, payload)
          .then(
            (result) => (replyTo === null ? undefined : this.store.answerCommand(id, { ok: true, result: result === undefined ? '' : JSON.stringify(result) })),
            (error: unknown) => {
              this.logger.warn({ err: error, command: id, kind }, 'a command from another node failed');
              return replyTo === null ? undefined : this.store.answerCommand(id, { ok: false, result: (error as Error).message ?? String(error) });
            },
          )
          .catch((error: unknown) => this.logger.warn({ err: error, command: id, kind }, 'could not store the answer to a command'))
          .finally(() => this.running.delete(run));
        this.running.add(run);
      }
    } finally {
      this.taking = false;
    }
  }

  private async execute(kind: string, payload: string): Promise<unknown> {
    return this.runLocally(kind, JSON.parse(payload));
  }

  private async runLocally(kind: string, payload: unknown): Promise<unknown> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler for command '${kind}'`);
    return handler(payload);
  }
}
