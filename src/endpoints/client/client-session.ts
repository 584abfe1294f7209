/**
 * One browser's signalling WebSocket (`/client/v1`), from its Access Token to its close:
 *
 *   opening ──register (token good)──▶ registered ──close──▶ closed
 *      └── token refused, or none within 10 s: `error` (Twilio's 20xxx code), close 4401
 *
 * Registered, it is listed in the client directory (rung as `client:<identity>` while its grant
 * allows incoming calls and the token is current), may place calls (`connect`, if the grant has
 * an outgoing Application) and carries the messages of its calls, each to the call's own handler
 * (attach/detach by CallSid). `updateToken` swaps the token (a refused one is told and the old
 * one stays); when the token expires the session is told (20104) and is no longer rung, and
 * places nothing, until it sends a new one — its calls go on. The server pings every 20 s; a
 * browser that has not answered the previous ping by the next is gone.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { AccessTokenCode, AccessTokenRefused, type VoiceAccess } from '../../services/access-tokens.js';
import type { DirectoryEntry } from './client-directory.js';
import { BAD_MESSAGE, CloseCode, parseClientMessage, type ClientMessage } from './client-protocol.js';

/** The messages of one call, on the session that carries it. */
export interface SessionCall {
  message(message: Extract<ClientMessage, { callSid: string }>): void;
  /** The WebSocket closed: the call has lost its browser. */
  sessionClosed(): void;
}

export interface SessionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SessionHooks {
  /** Checks an Access Token (access-tokens.ts). */
  verify(token: string): Promise<VoiceAccess>;
  /** Registered (again, after a new token): list it. */
  registered(session: ClientSession): void;
  /** Closed: unlist it. */
  closed(session: ClientSession): void;
  /** A `connect` of a registered session with an outgoing grant: place the call. */
  connect(session: ClientSession, request: Extract<ClientMessage, { type: 'connect' }>): void;
  logger: SessionLogger;
}

export const REGISTER_TIMEOUT_MS = 10_000;
export const PING_INTERVAL_MS = 20_000;

export interface SessionEvents {
  close: [];
}

export class ClientSession implements DirectoryEntry {
  readonly observer = new EventEmitter<SessionEvents>();
  private state: 'opening' | 'registered' | 'closed' = 'opening';
  private current: VoiceAccess | undefined;
  private expired = false;
  private wantsIncoming = true;
  private readonly calls = new Map<string, SessionCall>();
  private readonly registerTimer: NodeJS.Timeout;
  private expiryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private answeredPing = true;
  /** Tokens are checked one after the other, so a slow check cannot overtake a later one. */
  private verifying: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: WebSocket,
    private readonly hooks: SessionHooks,
    timing: { registerTimeoutMs?: number; pingIntervalMs?: number } = {},
  ) {
    this.registerTimer = setTimeout(() => this.refuse(new AccessTokenRefused(AccessTokenCode.invalid, 'No register message with an Access Token within 10 seconds')), timing.registerTimeoutMs ?? REGISTER_TIMEOUT_MS);
    this.pingTimer = setInterval(() => this.ping(), timing.pingIntervalMs ?? PING_INTERVAL_MS);
    socket.on('pong', () => (this.answeredPing = true));
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.send({ type: 'error', code: BAD_MESSAGE, message: 'binary frames are not part of the protocol; send JSON text' });
      else this.receive(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    socket.on('close', () => this.ended());
    socket.on('error', (error) => hooks.logger.info({ err: error }, 'a client signalling connection failed'));
  }

  get accountSid(): string {
    return this.current?.accountSid ?? '';
  }

  get identity(): string {
    return this.current?.identity ?? '';
  }

  /** The token's grant, once registered. */
  get access(): VoiceAccess | undefined {
    return this.current;
  }

  get ringable(): boolean {
    return this.state === 'registered' && !this.expired && this.wantsIncoming && this.current?.incomingAllow === true;
  }

  /** May place a call now: registered with a current token that names an Application. */
  get mayConnect(): boolean {
    return this.state === 'registered' && !this.expired && this.current?.outgoing !== undefined;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Sends a server message; nothing once closed. */
  send(message: Record<string, unknown>): void {
    if (this.state === 'closed' || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  /** Messages about `callSid` go to `call` from now on. */
  attach(callSid: string, call: SessionCall): void {
    this.calls.set(callSid, call);
  }

  detach(callSid: string, call: SessionCall): void {
    if (this.calls.get(callSid) === call) this.calls.delete(callSid);
  }

  /** Closes the WebSocket (the session ends when it has); idempotent. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.socket.close(code, reason);
    // A peer that never answers the close handshake is cut off after a while (ws's own timer).
  }

  /** Drops the connection without the close handshake (a peer that does not answer it). */
  terminate(): void {
    this.socket.terminate();
  }

  private receive(data: string): void {
    const message = parseClientMessage(data);
    if (typeof message === 'string') {
      this.send({ type: 'error', code: BAD_MESSAGE, message: `Bad message: ${message}` });
      return;
    }
    if (message.type === 'register' || message.type === 'updateToken') {
      if (message.type === 'register') this.wantsIncoming = message.incoming;
      this.verifying = this.verifying.then(() => this.takeToken(message.token, message.type === 'register' && this.state === 'opening'));
      return;
    }
    if (this.state !== 'registered') {
      this.send({ type: 'error', code: AccessTokenCode.invalid, message: `${message.type} before register: send { "type": "register", "token": "<Access Token>" } first` });
      return;
    }
    if (message.type === 'connect') {
      if (this.mayConnect) this.hooks.connect(this, message);
      else if (this.expired) this.send({ type: 'error', id: message.id, code: AccessTokenCode.expired, message: 'Access Token expired: send updateToken with a new one' });
      else this.send({ type: 'error', id: message.id, code: AccessTokenCode.grantsInvalid, message: 'The Access Token has no outgoing voice grant (VoiceGrant outgoingApplicationSid), so it may not place calls' });
      return;
    }
    const call = this.calls.get(message.callSid);
    if (call) call.message(message);
    else if (message.type !== 'hangup') this.send({ type: 'error', callSid: message.callSid, code: BAD_MESSAGE, message: `No call ${message.callSid} on this connection` });
  }

  /** A register (`first`: the session's first token) or an updateToken. */
  private async takeToken(token: string, first: boolean): Promise<void> {
    let access: VoiceAccess;
    try {
      access = await this.hooks.verify(token);
    } catch (error) {
      if (!(error instanceof AccessTokenRefused)) this.hooks.logger.warn({ err: error }, 'could not check an Access Token');
      const refusal = error instanceof AccessTokenRefused ? error : new AccessTokenRefused(AccessTokenCode.invalid, 'The Access Token could not be checked; try again');
      // A refused first token ends the session; a refused new one leaves the old one in force.
      if (first || this.state !== 'registered') this.refuse(refusal);
      else this.send({ type: 'error', code: refusal.code, message: refusal.message });
      return;
    }
    if (this.state === 'closed') return;
    clearTimeout(this.registerTimer);
    this.current = access;
    this.expired = false;
    this.state = 'registered';
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, access.expiresAt - Date.now()));
    this.hooks.registered(this);
    this.send({ type: 'registered', identity: access.identity, accountSid: access.accountSid, expiresAt: new Date(access.expiresAt).toISOString() });
  }

  private expire(): void {
    if (this.state !== 'registered') return;
    this.expired = true;
    this.send({ type: 'error', code: AccessTokenCode.expired, message: 'Access Token expired: no longer rung, and no calls may be placed until updateToken' });
  }

  private refuse(refusal: AccessTokenRefused): void {
    this.send({ type: 'error', code: refusal.code, message: refusal.message });
    this.close(CloseCode.unauthorized, 'Access Token refused');
  }

  private ping(): void {
    if (!this.answeredPing) {
      this.hooks.logger.info({ identity: this.identity }, 'a browser stopped answering pings; its signalling connection is closed');
      this.socket.terminate();
      return;
    }
    this.answeredPing = false;
    this.socket.ping();
  }

  private ended(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.registerTimer);
    clearTimeout(this.expiryTimer);
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.hooks.closed(this);
    for (const call of [...this.calls.values()]) call.sessionClosed();
    this.calls.clear();
    this.observer.emit('close');
  }
}
