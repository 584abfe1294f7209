/**
 * The transport as the user agent sees it, telling an observer of every message it hands up
 * and sends (the metrics' SIP requests and responses by method and code). Retransmissions are
 * counted as what they are: messages on the wire.
 */
import { cseq, type SipMessage } from '../../sip/message.js';
import type { SipDestination, SipTransport } from '../../sip/transaction/transport.js';
import type { SipCombinedTransport } from '../../sip/transport/combined-transport.js';

/** A request's method, or a response's (its CSeq's) with its status code. */
export type SipMessageObserver = (direction: 'in' | 'out', method: string, status: number | undefined) => void;

function tell(observe: SipMessageObserver, direction: 'in' | 'out', message: SipMessage): void {
  if (message.kind === 'request') observe(direction, message.method, undefined);
  else observe(direction, cseq(message)?.method ?? '', message.status);
}

export interface UserAgentTransport extends SipTransport {
  setMessageHandler(handler: (message: SipMessage, source: SipDestination) => void): void;
}

export function observedTransport(inner: SipCombinedTransport, observe: SipMessageObserver): UserAgentTransport {
  return {
    get reliable() {
      return inner.reliable;
    },
    send(message, destination) {
      inner.send(message, destination);
      tell(observe, 'out', message);
    },
    setMessageHandler(handler) {
      inner.setMessageHandler((message, source) => {
        tell(observe, 'in', message);
        handler(message, source);
      });
    },
    setUndeliveredHandler(handler) {
      inner.setUndeliveredHandler(handler);
    },
  };
}
