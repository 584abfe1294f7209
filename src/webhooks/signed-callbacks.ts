/**
 * Hands status callbacks to the queue in the order they happened, each signed with its
 * account's auth token. Looking the token up is asynchronous, so without care two callbacks of
 * one key could reach the queue in either order; here each waits for the previous one of its
 * key to be queued.
 *
 * The token comes from the store, which may not answer for a while (a database restart, a
 * failover, a cut connection): the lookup is tried again, backing off from a quarter second to
 * 8 s, for about a minute — the call's end, stored once the database is back, is then told
 * too, instead of silently never. What still finds no token is given up with a warning.
 */
import type { WebhookPurpose } from '../domain/call-timeline.js';
import type { CallbackQueue } from './callback-queue.js';
import type { WebhookMethod } from './webhook-client.js';

/** The auth token of an account, to sign its webhooks. */
export type TokenLookup = (accountSid: string) => Promise<string>;

export interface SignedCallbacksOptions {
  /** Waits between lookups of a token that failed; default 250 ms doubling to 8 s, ~1 min in all. */
  retryDelaysMs?: readonly number[];
  logger?: { warn(obj: object, msg: string): void };
}

const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000];

export class SignedCallbacks {
  private readonly ordering = new Map<string, Promise<void>>();

  private readonly retryDelaysMs: readonly number[];

  constructor(
    private readonly queue: CallbackQueue,
    private readonly tokenOf: TokenLookup,
    private readonly options: SignedCallbacksOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  }

  /** Resolves when every callback sent so far has been attempted (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.ordering.size > 0) await Promise.all([...this.ordering.values()]);
    await this.queue.idle();
  }

  send(key: string, accountSid: string, url: string, method: WebhookMethod, params: Record<string, string>, purpose: WebhookPurpose = 'status-callback'): void {
    const previous = this.ordering.get(key) ?? Promise.resolve();
    const queued = previous
      .then(() => this.lookUp(accountSid))
      .then((authToken) => this.queue.enqueue(key, { url, method, params, authToken, purpose }))
      .catch((error: unknown) => this.options.logger?.warn({ err: error, url, key }, 'a status callback was given up: its account\'s auth token could not be read'));
    this.ordering.set(key, queued);
    void queued.then(() => {
      if (this.ordering.get(key) === queued) this.ordering.delete(key);
    });
  }

  private async lookUp(accountSid: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tokenOf(accountSid);
      } catch (error) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
