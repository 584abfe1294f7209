/**
 * The SIP messages of one call as Conclave's own `Calls/{CallSid}/SipMessages` resource shows
 * them (not a Twilio resource): what sngrep shows a FreeSWITCH user, for the console's ladder.
 * Only the node that runs a call has its messages; they are kept in memory, a bounded while.
 */
export interface SipMessageRecord {
  /** When it was received or handed to the socket (ISO 8601). */
  time: string;
  direction: 'in' | 'out';
  /** `ip:port` it came from. */
  source: string;
  /** `ip:port` it went to. */
  destination: string;
  transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  /** The request line or status line. */
  firstLine: string;
  /** The whole message, cut at SIP_MESSAGE_TEXT_LIMIT bytes. */
  text: string;
}

export interface SipMessageLog {
  /** The call's messages in the order they were seen; empty when this node knows none. */
  messagesOf(callSid: string): readonly SipMessageRecord[];
}
