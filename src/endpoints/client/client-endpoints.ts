/**
 * Twilio's client model on this node (issue 16 §3): browsers sign in over the `/client/v1`
 * WebSocket with an Access Token, are rung as `client:<identity>` (ClientDialer) and place calls
 * that run their grant's Application (ClientInboundLeg, services' receiveClientCall). app.ts
 * builds one and gives it what it cannot know: how tokens are checked, the WebRTC media, where
 * keys pressed go, and how a placed call is started.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { InboundLeg } from '../../domain/call-ports.js';
import type { VoiceAccess } from '../../services/access-tokens.js';
import type { BrowserMedia } from './browser-media.js';
import type { KeyPresses } from './browser-remote-leg.js';
import { ClientDialer } from './client-dialer.js';
import { ClientDirectory } from './client-directory.js';
import { ClientHub } from './client-hub.js';
import { ClientInboundLeg } from './client-inbound-leg.js';
import { BAD_MESSAGE, type ClientMessage } from './client-protocol.js';
import type { ClientSession, SessionLogger } from './client-session.js';

export interface PlacedCall {
  accountSid: string;
  identity: string;
  applicationSid: string;
  /** The grant's `outgoing.params`, then the browser's `params` (To, custom ones). */
  params: Record<string, string>;
  leg: InboundLeg;
}

export interface ClientEndpointsOptions {
  verify(token: string): Promise<VoiceAccess>;
  /** The WebRTC media (undefined: this server has none, browser calls fail with a line saying so). */
  media(): BrowserMedia | undefined;
  pressed: KeyPresses;
  /** Starts a call a browser placed; rejects (with a Twilio `code`, when it has one) when it cannot. */
  place(call: PlacedCall): Promise<{ sid: string }>;
  logger: SessionLogger;
  /** Tests: shorter register wait and ping interval. */
  timing?: { registerTimeoutMs?: number; pingIntervalMs?: number };
}

export class ClientEndpoints {
  readonly directory = new ClientDirectory<ClientSession>();
  readonly dialer: ClientDialer;
  private readonly hub: ClientHub;

  constructor(private readonly options: ClientEndpointsOptions) {
    this.dialer = new ClientDialer(this.directory, options.media, options.pressed, options.logger);
    this.hub = new ClientHub(
      {
        verify: options.verify,
        registered: (session) => {
          this.directory.remove(session);
          this.directory.add(session);
        },
        closed: (session) => this.directory.remove(session),
        connect: (session, request) => this.connect(session, request),
        logger: options.logger,
      },
      options.timing,
    );
  }

  /** An upgrade request of `/client/v1`. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.hub.upgrade(request, socket, head);
  }

  /** Closes every browser's WebSocket (shutdown, after the calls ended). Idempotent. */
  close(): void {
    this.hub.close();
  }

  private connect(session: ClientSession, request: Extract<ClientMessage, { type: 'connect' }>): void {
    const access = session.access;
    const media = this.options.media();
    if (!access?.outgoing || !media) {
      session.send({ type: 'error', id: request.id, code: BAD_MESSAGE, message: 'This server has no WebRTC media, so browsers cannot place calls' });
      return;
    }
    const leg = new ClientInboundLeg(session, request.id, request.sdp, media, this.options.pressed);
    this.options
      .place({ accountSid: access.accountSid, identity: access.identity, applicationSid: access.outgoing.applicationSid, params: { ...access.outgoing.params, ...request.params }, leg })
      .then((call) => leg.bind(call.sid))
      .catch((error: unknown) => {
        const code = (error as { code?: unknown }).code;
        this.options.logger.info({ err: error, identity: access.identity }, 'a call a browser placed could not start');
        session.send({ type: 'error', id: request.id, code: typeof code === 'number' ? code : BAD_MESSAGE, message: `The call could not be placed: ${(error as Error).message}` });
      });
  }
}
