/** A transport double that records what transactions send, and when, and can be made to fail. */
import type { SipMessage } from '../../../src/sip/message.js';
import type { SipDestination, SipTransport } from '../../../src/sip/transaction/transport.js';
import type { ManualTimers } from './manual-timers.js';

export interface Sent {
  message: SipMessage;
  destination: SipDestination;
  at: number;
}

export class RecordingTransport implements SipTransport {
  readonly sent: Sent[] = [];
  failing = false;

  constructor(
    readonly reliable: boolean,
    private readonly clock: ManualTimers,
  ) {}

  send(message: SipMessage, destination: SipDestination): void {
    if (this.failing) throw new Error('ECONNRESET');
    this.sent.push({ message, destination, at: this.clock.now });
  }

  /** Times at which messages matching `label` were sent: `INVITE`, `ACK`, `100`, `486`. */
  times(label: string): number[] {
    return this.sent.filter((s) => labelOf(s.message) === label).map((s) => s.at);
  }

  labels(): string[] {
    return this.sent.map((s) => labelOf(s.message));
  }
}

export function labelOf(message: SipMessage): string {
  return message.kind === 'request' ? message.method : String(message.status);
}
