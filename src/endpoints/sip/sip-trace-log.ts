/**
 * The SIP trace: every message in and out, filed in the per-call message buffer (the
 * `SipMessages` resource) and written to the log — at info with CONCLAVE_SIP_TRACE=true, else at
 * trace level (CONCLAVE_LOG_LEVEL=trace) — as one line a person reads
 * (`SIP in udp 192.0.2.7:5060 → 127.0.0.1:5080: INVITE sip:…`) with the whole message in `sip`.
 * The message is only written out to text when a line will be logged.
 */
import type { SipMessageBuffer } from '../../sip/trace/sip-message-buffer.js';
import { SIP_MESSAGE_TEXT_LIMIT } from '../../sip/trace/sip-message-buffer.js';
import { textOf, traceSummary, type SipTraceListener } from '../../sip/trace/sip-trace.js';
import { callId } from '../../sip/message.js';

export interface SipTraceLogger {
  info(obj: object, msg: string): void;
  trace?(obj: object, msg: string): void;
  isLevelEnabled?(level: string): boolean;
}

export function sipTraceListener(buffer: SipMessageBuffer | undefined, logger: SipTraceLogger, traceAtInfo: boolean): SipTraceListener {
  return (event) => {
    buffer?.record(event);
    const write = traceAtInfo ? logger.info.bind(logger) : logger.isLevelEnabled?.('trace') ? logger.trace?.bind(logger) : undefined;
    write?.({ sipCallId: callId(event.message), sip: textOf(event.message, SIP_MESSAGE_TEXT_LIMIT) }, traceSummary(event));
  };
}
