/**
 * Retransmission of a 2xx to INVITE by the UAS core (RFC 3261 §13.3.1.4; the server
 * transaction does not do it, §17.2.1): resend at T1, doubling up to T2, until the ACK
 * arrives or 64*T1 has passed. Unlike transaction timers this runs on reliable transports
 * too, because the 2xx and its ACK travel end to end through proxies that may use UDP.
 * On giving up, the UAS should end the dialog with BYE (§13.3.1.4); `onGiveUp` says when.
 */
import type { SipResponse } from '../message.js';
import type { CancelTimer, SipTimerConfig, SipTimers } from './timing.js';
import type { SipDestination, SipTransport } from './transport.js';

export interface TwoHundredRetransmitterOptions {
  transport: SipTransport;
  timers: SipTimers;
  timing: SipTimerConfig;
  /** The 2xx already sent once by the server transaction. */
  response: SipResponse;
  destination: SipDestination;
  /** Called when 64*T1 passed without an ACK, or the transport failed. */
  onGiveUp?: () => void;
}

export class TwoHundredRetransmitter {
  private readonly cancels: CancelTimer[] = [];
  private done = false;

  constructor(private readonly options: TwoHundredRetransmitterOptions) {
    this.schedule(options.timing.t1);
    this.cancels.push(options.timers.set(64 * options.timing.t1, () => this.giveUp()));
  }

  get closed(): boolean {
    return this.done;
  }

  /** The ACK for this 2xx arrived: stop retransmitting. */
  acknowledged(): void {
    this.close();
  }

  /** Stops without an ACK (the dialog ended some other way); idempotent. */
  close(): void {
    if (this.done) return;
    this.done = true;
    for (const cancel of this.cancels) cancel();
    this.cancels.length = 0;
  }

  private schedule(interval: number): void {
    this.cancels.push(
      this.options.timers.set(interval, () => {
        if (this.done) return;
        try {
          this.options.transport.send(this.options.response, this.options.destination);
        } catch {
          this.giveUp();
          return;
        }
        this.schedule(Math.min(2 * interval, this.options.timing.t2));
      }),
    );
  }

  private giveUp(): void {
    if (this.done) return;
    this.close();
    this.options.onGiveUp?.();
  }
}
