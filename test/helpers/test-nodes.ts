/**
 * Several Conclave nodes in this process on one fresh PostgreSQL schema, as a deployment runs
 * them (README: nodes sharing a database): each its own app (createApp), store, pool, LISTEN
 * connection, media plane and HTTP listener on 127.0.0.1 port 0, all with the same owner
 * account. Each node is a TestApp, so the single-node helpers (placeCall…) work on any of them.
 * For nodes as separate processes (kill -9, SIGSTOP) see node-process.ts.
 */
import { pino, type Logger } from 'pino';
import { createApp } from '../../src/app.js';
import type { MediaConfig } from '../../src/config.js';
import type { Store } from '../../src/domain/ports.js';
import { newAuthToken, newSid } from '../../src/domain/sids.js';
import { joinConference } from '../../src/services/join-conference.js';
import { openSharedPostgresStores } from './stores.js';
import { apiClient, testConfig, type TestApp } from './test-app.js';

export interface TestNodesOptions {
  /**
   * How long a silent node lives on for the others. Short, so that a node stopped uncleanly is
   * declared dead within a test's patience (checked every quarter lease).
   */
  leaseMs?: number;
  /** Media settings over the defaults (DEFAULT_MEDIA_CONFIG). */
  media?: Partial<MediaConfig>;
  /** Each node's logger (default: silent), by its index. */
  logger?: (index: number) => Logger;
}

export interface TestNode extends TestApp {
  /** 0 for the first node, 1 for the second… (A, B, C in the tests). */
  readonly index: number;
  /** This node's own store: its pool and LISTEN connection on the shared schema. */
  readonly store: Store;
  /** The node's id in the `nodes` table as it is now (a fenced node rejoins under a new one). */
  id(): string;
}

export interface TestNodes {
  nodes: TestNode[];
  /** The PostgreSQL schema they share. */
  schema: string;
  /** Starts one more node on the schema (a node that joins later). */
  addNode(): Promise<TestNode>;
  /**
   * Stops a node as a crash does, as far as the others can tell: its database connections close
   * first, so it writes nothing more — its lease lapses, its calls stay live in the store and its
   * commands unanswered — then its calls, media and listener stop without reaching the database.
   */
  crash(node: TestNode): Promise<void>;
  /** Stops every node still running (each as `close()` does) and drops the schema. */
  close(): Promise<void>;
}

export const DEFAULT_TEST_LEASE_MS = 1500;

export async function startTestNodes(count: number, options: TestNodesOptions = {}): Promise<TestNodes> {
  const shared = await openSharedPostgresStores(0);
  const accountSid = newSid('AC');
  const authToken = newAuthToken();
  const base = testConfig('postgres', options.media ? { media: options.media } : {});
  const config = { ...base, node: { leaseMs: options.leaseMs ?? DEFAULT_TEST_LEASE_MS, address: '127.0.0.1' } };
  const nodes: TestNode[] = [];
  const stopped = new Set<TestNode>();

  async function addNode(): Promise<TestNode> {
    const index = nodes.length;
    const store = await shared.open();
    const app = await createApp(config, { accountSid, authToken }, { store, logger: options.logger?.(index) ?? pino({ level: 'silent' }) });
    const baseUrl = await app.listen();
    const node: TestNode = {
      index,
      store,
      id: () => app.services.node.id,
      app,
      baseUrl,
      accountSid,
      authToken,
      request: apiClient(baseUrl, accountSid, authToken),
      join: (friendlyName, joinOptions = {}) => joinConference(app.services, { accountSid: joinOptions.accountSid ?? accountSid, friendlyName, ...joinOptions }),
      async close() {
        if (stopped.has(node)) return;
        stopped.add(node);
        await app.close();
      },
    };
    nodes.push(node);
    return node;
  }

  try {
    // One after the other, as the first start creates the owner account the others then find.
    for (let i = 0; i < count; i++) await addNode();
  } catch (error) {
    await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
    await shared.cleanup();
    throw error;
  }

  return {
    nodes,
    schema: shared.schema,
    addNode,
    async crash(node) {
      if (stopped.has(node)) return;
      await node.store.close();
      await node.close();
    },
    async close() {
      await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
      await shared.cleanup();
    },
  };
}
