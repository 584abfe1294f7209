/**
 * Hands status callbacks to the queue in the order they happened, each signed with its
 * account's auth token. Looking the token up is asynchronous, so without care two callbacks of
 * one key could reach the queue in either order; here each waits for the previous one of its
 * key to be queued.
 */
import type { CallbackQueue } from './callback-queue.js';
import type { WebhookMethod } from './webhook-client.js';

/** The auth token of an account, to sign its webhooks. */
export type TokenLookup = (accountSid: string) => Promise<string>;

export class SignedCallbacks {
  private readonly ordering = new Map<string, Promise<void>>();

  constructor(
    private readonly queue: CallbackQueue,
    private readonly tokenOf: TokenLookup,
  ) {}

  /** Resolves when every callback sent so far has been attempted (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.ordering.size > 0) await Promise.all([...this.ordering.values()]);
    await this.queue.idle();
  }

  send(key: string, accountSid: string, url: string, method: WebhookMethod, params: Record<string, string>): void {
    const previous = this.ordering.get(key) ?? Promise.resolve();
    const queued = previous
      .then(() => this.tokenOf(accountSid))
      .then((authToken) => this.queue.enqueue(key, { url, method, params, authToken }))
      .catch(() => undefined);
    this.ordering.set(key, queued);
    void queued.then(() => {
      if (this.ordering.get(key) === queued) this.ordering.delete(key);
    });
  }
}
