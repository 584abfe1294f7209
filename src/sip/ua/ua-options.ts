/**
 * The configuration of a SipUserAgent and of one outgoing call: the public option types of
 * the user agent core (RFC 3261 §8.1 for the UAC request fields, §8.2 for the UAS callbacks,
 * §22.2 for the digest credentials).
 */
import type { AudioCodec } from '../sdp/audio-session.js';
import type { SessionAudio } from '../sdp/session-audio.js';
import type { SipTimerConfig, SipTimers } from '../transaction/timing.js';
import type { SipDestination, SipTransport } from '../transaction/transport.js';
import type { TransactionContext } from '../transaction/transaction.js';
import type { RefusalCause, RequestAdmission } from '../limits/request-admission.js';
import type { SipMessage, SipRequest } from '../message.js';
import type { SipCall } from './call.js';
import type { IncomingCall } from './incoming-call.js';

export interface SipUserAgentOptions {
  transport: SipTransport & { setMessageHandler?(handler: (message: SipMessage, source: SipDestination) => void): void };
  /** Our address, for Via sent-by and the default Contact. */
  address: SipDestination;
  /** Contact value (`<sip:conclave@10.0.0.1:5060>`); default built from `address`. */
  contact?: string;
  /** User-Agent / Server header value; default `Conclave`. */
  userAgent?: string;
  timers?: SipTimers;
  timing?: Partial<SipTimerConfig>;
  /** Codecs we accept in offers, preferred first (default PCMU, PCMA). */
  codecs?: readonly AudioCodec[];
  /** A new INVITE with a usable offer. Without a handler, INVITEs get 480. */
  onInvite?(incoming: IncomingCall): void | Promise<void>;
  /** The caller cancelled a pending INVITE (it got its 487). */
  onCancel?(incoming: IncomingCall): void;
  /** The peer sent BYE (also the call's `ended` event with by: 'remote'). */
  onBye?(call: SipCall): void;
  /** A re-INVITE with a usable offer: return our SDP answer. Without a handler: 488. */
  onReinvite?(call: SipCall, offer: SessionAudio, sdp: string): string | Promise<string>;
  /**
   * A REGISTER (RFC 3261 §10.3): the application is the registrar and answers it with
   * `respond` (once; a throw or a rejection is answered 500). Without a handler REGISTER is
   * not implemented (501), as any method we do not know.
   */
  onRegister?(request: SipRequest, source: SipDestination, respond: RegisterResponder): void | Promise<void>;
  /**
   * RFC 3263 §4 for the requests inside a dialog (ACK, BYE, re-INVITE) whose next hop — the
   * first Route, else the peer's Contact — has a host name: the servers for that URI, best first
   * (the first is used). Without it, or for an IP address, the URI's host and port are used as
   * written.
   */
  resolveTarget?(uri: string): Promise<readonly SipDestination[]>;
  /** Application callbacks that threw, and other non-fatal errors. */
  onError?(error: unknown): void;
  /** Per-source budgets and the transaction-table cap for new requests; none when absent. */
  admission?: RequestAdmission;
  /** A new request the admission refused with 503 (`refuse`) or dropped. */
  onRefused?(request: SipRequest, source: SipDestination, action: 'refuse' | 'drop', cause: RefusalCause): void;
  /** Every transaction's state changes (RFC 3261 §17): the debug log. */
  onTransactionState?: TransactionContext['onStateChange'];
}

/** Answers a REGISTER: the status, and the headers to add (Contact, Expires, WWW-Authenticate…). */
export type RegisterResponder = (status: number, options?: { reason?: string; headers?: Array<readonly [string, string]> }) => void;

export interface InviteOptions {
  /** Request-URI and To (a sip: URI). */
  to: string;
  /** From URI (a sip: URI). */
  from: string;
  /** Contact value; default the user agent's. */
  contact?: string;
  sdpOffer: string;
  auth?: { username: string; password: string };
  /** Ring timeout: after it the INVITE is cancelled and the call fails with 408. */
  timeoutMs?: number;
  /** Where to send (an outbound proxy); default the host and port of `to`. */
  destination?: SipDestination;
  /**
   * Where to send, best first, as DNS gave them (RFC 3263 §4, sip/dns/sip-resolver.ts): the
   * next is tried, with a new transaction, when one times out, fails to send or answers 503
   * (§4.3). Wins over `destination`.
   */
  targets?: readonly SipDestination[];
  /**
   * How long a target that still has others after it may go without any response (not even
   * 100 Trying) before the next is tried; without it only Timer B (64*T1, 32 s) moves on.
   */
  failoverAfterMs?: number;
  headers?: Array<readonly [string, string]>;
}
