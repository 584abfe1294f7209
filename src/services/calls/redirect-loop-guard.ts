/**
 * Paces a call's TwiML documents when they come round again with nothing heard between them:
 * `<Response><Redirect/></Response>`, or a chain of redirects that loops. Twilio lets an app
 * loop on purpose (`<Play>hold.mp3</Play><Redirect/>` is its documented hold-music idiom,
 * https://www.twilio.com/docs/voice/twiml/redirect), so a loop is not an error in itself; one
 * that plays nothing would otherwise fetch as fast as the app answers, for as long as the call
 * lasts. A document is "quick" when the next fetch comes less than `floorMs` after its own.
 * Up to `burst` quick documents in a row run at once (a few redirects through a menu are
 * normal); after that each fetch waits until `floorMs` after the previous one, with one log
 * line per call; after `maxQuick` in a row the call ends as an application error.
 *
 * Real (monotonic) time, not the domain clock: this paces requests on the wire.
 */
import { performance } from 'node:perf_hooks';
import { sleep } from './sleep.js';

export interface RedirectLoopLimits {
  floorMs: number;
  burst: number;
  maxQuick: number;
}

export const REDIRECT_LOOP_LIMITS: RedirectLoopLimits = { floorMs: 1000, burst: 10, maxQuick: 100 };

export class RedirectLoopGuard {
  private lastFetch = Number.NEGATIVE_INFINITY;
  private quick = 0;
  private warned = false;

  constructor(
    private readonly onSlowed: (limits: RedirectLoopLimits) => void,
    private readonly limits: RedirectLoopLimits = REDIRECT_LOOP_LIMITS,
  ) {}

  /**
   * Call before fetching each document. Resolves true when the fetch may go ahead (after
   * waiting if the call loops quickly), false when the call should end as a loop; resolves at
   * once when `signal` aborts.
   */
  async pace(signal: AbortSignal): Promise<boolean> {
    const since = performance.now() - this.lastFetch;
    if (since >= this.limits.floorMs) {
      this.quick = 0;
    } else if (++this.quick > this.limits.burst) {
      if (this.quick > this.limits.maxQuick) return false;
      if (!this.warned) {
        this.warned = true;
        this.onSlowed(this.limits);
      }
      await sleep(this.limits.floorMs - since, signal);
    }
    this.lastFetch = performance.now();
    return true;
  }
}
