/**
 * What CONCLAVE_LOG_LEVEL=debug adds about SIP, for tracing the in-house stack: every
 * transaction's state changes (RFC 3261 §17: `SIP transaction z9hG4bK…|INVITE: proceeding`),
 * each call's dialog — established, confirmed by the ACK, re-INVITEd, ended by whom and why —
 * and its media leg opened and closed. Nothing is built when debug is off.
 */
import type { TransactionContext } from '../../sip/transaction/transaction.js';
import type { SipCall } from '../../sip/ua/call.js';

export interface SipDebugLogger {
  debug?(obj: object, msg: string): void;
  isLevelEnabled?(level: string): boolean;
}

function debugOn(logger: SipDebugLogger): logger is Required<Pick<SipDebugLogger, 'debug'>> {
  return logger.debug !== undefined && logger.isLevelEnabled?.('debug') === true;
}

export function transactionStateLog(logger: SipDebugLogger): NonNullable<TransactionContext['onStateChange']> {
  return (key, state, reason) => {
    if (!debugOn(logger)) return;
    logger.debug({ transaction: key, state, ...(reason ? { reason } : {}) }, `SIP transaction ${key}: ${state}${reason && reason !== 'normal' ? ` (${reason})` : ''}`);
  };
}

/** The dialog of `call` (answered, so established) and what happens to it, told as call `callSid`'s. */
export function logDialog(logger: SipDebugLogger, call: SipCall, callSid: string): void {
  if (!debugOn(logger)) return;
  const about = { callSid, sipCallId: call.callId };
  logger.debug(about, `SIP dialog of ${callSid} established (${call.direction})`);
  call.on('confirmed', () => logger.debug(about, `SIP dialog of ${callSid} confirmed (ACK received)`));
  call.on('reinvite', ({ offer }) => logger.debug({ ...about, onHold: offer.onHold }, `SIP dialog of ${callSid} re-INVITEd${offer.onHold ? ' (hold)' : ''}`));
  call.on('ended', ({ by, reason }) => logger.debug({ ...about, by, reason }, `SIP dialog of ${callSid} ended by the ${by === 'local' ? 'Conclave' : 'peer'} side: ${reason}`));
}

/** The RTP leg a SIP call's media goes through: opened now, and closed (with why) when it does. */
export function logMediaLeg(
  logger: SipDebugLogger,
  leg: { callSid: string; ended: Promise<string> },
  details: { port: number; codec: string; remote?: { address: string; port: number }; srtp: boolean },
): void {
  if (!debugOn(logger)) return;
  const { callSid } = leg;
  const remote = details.remote ? ` ⇄ ${details.remote.address}:${details.remote.port}` : '';
  logger.debug({ callSid, ...details }, `media leg of ${callSid} opened: RTP port ${details.port}${remote}, ${details.codec}${details.srtp ? ', SRTP' : ''}`);
  void leg.ended.then((why) => logger.debug({ callSid, why }, `media leg of ${callSid} closed: ${why}`));
}
