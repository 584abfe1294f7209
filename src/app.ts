/**
 * The composition root: the one module that wires every layer together — store, event bus,
 * services, HTTP. `main.ts` and the tests build the app through here.
 */
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { DEFAULT_MEDIA_CONFIG, DEFAULT_METRICS_CONFIG, DEFAULT_NODE_LEASE_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, defaultRecordingsDir, type Config } from './config.js';
import type { Account } from './domain/model.js';
import type { Clock, Store } from './domain/ports.js';
import type { RemoteAddress } from './media/protocol.js';
import { EventBus } from './events/event-bus.js';
import { ShutdownSequence } from './shutdown.js';
import { ConfigError } from './errors.js';
import { buildHttpServer } from './http/server.js';
import { websocketUpgrades } from './http/websocket-upgrades.js';
import type { LocalNode, ServiceContext } from './services/context.js';
import { ConferenceCallbacks } from './services/conference-callbacks.js';
import { handleCallCommands } from './services/cluster/call-commands.js';
import { NodeCommands } from './services/cluster/node-commands.js';
import { MemberNode, newNodeId, NodeMembership } from './services/cluster/node-membership.js';
import { reapNode } from './services/cluster/reap-node.js';
import { CredentialCache } from './services/credential-cache.js';
import { ensureOwnerAccount, type OwnerCredentials } from './services/owner-account.js';
import { openStore } from './store/open-store.js';
import { EndpointRouter } from './endpoints/endpoint-router.js';
import { ConferenceMedia } from './endpoints/media/conference-media.js';
import { ConferenceTrunks, TRUNK_LEG_PREFIX, type TrunkRequest } from './endpoints/media/conference-trunks.js';
import { CallKeypad } from './endpoints/media/call-keypad.js';
import { SipDomainGuard } from './endpoints/sip/sip-domain-guard.js';
import { SourceFailureBudget } from './endpoints/sip/source-failure-budget.js';
import { CallVoiceActivity } from './endpoints/media/call-voice-activity.js';
import { MediaRecorderTaps } from './endpoints/media/recorder-taps.js';
import { FileRecordingStorage } from './endpoints/recordings/file-recording-storage.js';
import { handleRecordingCommands } from './services/recordings/control-recordings.js';
import { LiveRecordings } from './services/recordings/live-recordings.js';
import type { RecordingServiceContext } from './services/recordings/recording-service-context.js';
import { RecordingWebhooks } from './webhooks/recording-webhooks.js';
import { MediaAudio } from './endpoints/media/media-audio.js';
import { MediaPlane } from './endpoints/media/media-plane.js';
import { SimulatedDialer } from './endpoints/simulated-dialer.js';
import { ClientEndpoints } from './endpoints/client/client-endpoints.js';
import { CLIENT_SIGNALLING_PATH } from './endpoints/client/client-hub.js';
import { answerWebRtc, offerWebRtc } from './endpoints/webrtc/webrtc-media.js';
import { verifyAccessToken } from './services/access-tokens.js';
import { receiveClientCall } from './services/calls/receive-client-call.js';
import { SipGateway } from './endpoints/sip/sip-gateway.js';
import { randomBytes } from 'node:crypto';
import { reportSpeech } from './services/report-speech.js';
import { receiveDomainCall, receiveSipCall } from './services/calls/receive-call.js';
import { CallEngine } from './services/calls/call-engine.js';
import { sweepOrphanCalls } from './services/calls/sweep-orphan-calls.js';
import { parseTwiml } from './twiml/parse-twiml.js';
import { CallbackQueue } from './webhooks/callback-queue.js';
import { CallWebhooks } from './webhooks/call-webhooks.js';
import { ConferenceWebhooks } from './webhooks/conference-webhooks.js';
import { SignedCallbacks } from './webhooks/signed-callbacks.js';
import { WebhookClient } from './webhooks/webhook-client.js';
import { AudioFetcher } from './audio/audio-fetcher.js';
import { outboundAgent } from './net/outbound-agent.js';
import { OutboundPolicy } from './net/outbound-policy.js';
import { ConclaveMetrics } from './metrics/conclave-metrics.js';
import { Readiness } from './metrics/readiness.js';
import { buildMetricsServer } from './http/metrics-server.js';
import type { Observability } from './http/routes/health.js';
import { LiveEvents, type LiveEventsOptions } from './events/live-events.js';
import { registerEventRoutes } from './http/routes/events.js';
import { registerSipMessageRoutes } from './http/routes/sip-messages.js';
import { registerCallTimelineRoutes } from './http/routes/call-timeline.js';
import { CallTimelineBuffer } from './services/calls/call-timeline-buffer.js';
import { SipMessageBuffer } from './sip/trace/sip-message-buffer.js';
import { logConferenceEvent, loggedCallProgress } from './services/calls/call-lifecycle-log.js';

export interface App {
  readonly config: Config;
  readonly store: Store;
  readonly bus: EventBus;
  readonly services: RecordingServiceContext;
  /** Status callbacks on their way: `idle()` resolves once every change committed so far has been told. */
  readonly callbacks: { idle(): Promise<void> };
  readonly http: FastifyInstance;
  readonly logger: Logger;
  readonly owner: Account;
  /** Whether this start created the owner account. */
  readonly ownerCreated: boolean;
  /** The media plane: one leg per answered call (tests read recordings and stats through it). */
  readonly media: MediaPlane;
  /** Starts listening (HTTP, and SIP when configured); resolves with the base URL, e.g. `http://127.0.0.1:8080`. */
  listen(): Promise<string>;
  /** The URL of `/metrics` on its own listener (CONCLAVE_METRICS=port), once `listen()` resolved; else undefined. */
  metricsUrl(): string | undefined;
  /** Where SIP listens, once `listen()` resolved; undefined without SIP. */
  sipAddress(): { host: string; port: number } | undefined;
  /**
   * Stops: no new requests, every call ended (BYE to phones, callbacks sent, fetches given up),
   * then SIP, the media plane, the callback queue, the store — each even if one before failed,
   * all within `shutdownTimeoutMs`. Resolves true when all closed cleanly. Idempotent.
   */
  close(): Promise<boolean>;
}

export interface AppOptions {
  /** An already opened store (tests); otherwise opened from `config.database`. */
  store?: Store;
  clock?: Clock;
  logger?: Logger;
  /**
   * End calls a previous run left live (SQLite only). Only the server does this: a tool such as
   * `conclave join` shares the store with a running server whose calls are really live.
   */
  sweepOrphanCalls?: boolean;
  /** The live event stream's per-client buffer and keep-alive (tests; the defaults otherwise). */
  liveEventStreams?: LiveEventsOptions['stream'];
}

const systemClock: Clock = { now: () => Date.now() };

const TRUNK_OPEN = 'trunk.open';
const TRUNK_CLOSE = 'trunk.close';
const TRUNK_OPEN_TIMEOUT_MS = 5000;
/** Twilio's largest conference is 250 participants. */
const RESYNC_PAGE = 1000;
const RESYNC_ATTEMPTS = 5;
/** How often recordings past CONCLAVE_RECORDINGS_RETENTION_DAYS are looked for. */
const RETENTION_SWEEP_MS = 3_600_000;
/** The cluster secret that signs SIP digest nonces (SipDomainGuard). */
const SIP_NONCE_SECRET = 'sip-digest-nonce';

export async function createApp(config: Config, owner: OwnerCredentials, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const { database } = config;
  const store =
    options.store ??
    (await (database.kind === 'sqlite'
      ? // The server (the one that sweeps) holds the file for itself; `conclave join` shares it.
        openStore(database.path, { serverLock: options.sweepOrphanCalls === true })
      : openStore(database.url, { statementTimeoutMs: database.statementTimeoutMs, connectTimeoutMs: database.connectTimeoutMs, logger })));
  const channel = store.channel;
  const bus = new EventBus((error, event) => logger.error({ err: error, event: event.type }, 'event listener failed'), channel !== undefined);
  // With several nodes every committed event arrives here, from whichever node committed it.
  channel?.subscribe((message) => {
    if (message.t === 'event') bus.publish([message.event]);
  });
  // With several nodes the id changes if the others ever declare this node dead (node-membership.ts).
  const node: LocalNode = channel ? new MemberNode(newNodeId()) : { id: newNodeId(), clustered: false };
  const core: ServiceContext = { node, store, bus, clock: options.clock ?? systemClock, credentials: new CredentialCache() };
  const ensured = await ensureOwnerAccount(core, owner);
  // Closed last registered first: each resource is registered as soon as it exists.
  const shutdown = new ShutdownSequence(logger);
  shutdown.add('store', () => store.close());

  const timeouts = config.webhooks ?? { twimlTimeoutMs: 15_000, callbackTimeoutMs: 5_000 };
  // Every request to a URL an account gave (webhooks, callbacks, media) connects through this
  // one agent, which applies CONCLAVE_WEBHOOK_ALLOW/DENY and the built-in deny list to each connection.
  const outbound = outboundAgent(new OutboundPolicy(config.outbound));
  const metricsConfig = config.metrics ?? DEFAULT_METRICS_CONFIG;
  // Prometheus metrics (metrics/conclave-metrics.ts); what they read when scraped is made below.
  const metrics =
    metricsConfig.serve === 'off'
      ? undefined
      : new ConclaveMetrics({
          liveCallStatuses: () => Array.from(engine.liveCalls(), (call) => call.status),
          conferences: () => conferenceMedia.census(),
          media: () => plane.stats(),
          sipTransactions: () => sip && { server: sip.ua.layer.serverTransactionCount, client: sip.ua.layer.clientTransactionCount },
          pool: () => store.poolFigures(),
        });
  if (metrics) store.listenToQueries(metrics.query);
  // Each call's timeline (Calls/{CallSid}/Timeline): its status moves and verbs through the notifier, its webhooks from the client.
  const timeline = new CallTimelineBuffer();
  const webhookClient = new WebhookClient({
    defaultTimeoutMs: timeouts.twimlTimeoutMs,
    dispatcher: outbound,
    observe: (seconds, failure, report) => {
      metrics?.webhook(seconds, failure);
      timeline.webhookRequested(report);
    },
  });
  const callbacks = new CallbackQueue({ logger, client: webhookClient, timeoutMs: timeouts.callbackTimeoutMs });
  const tokenOf = async (accountSid: string): Promise<string> => (await store.findAccount(accountSid))?.authToken ?? '';
  const signed = new SignedCallbacks(callbacks, tokenOf, { logger });
  // The API's URL as callers reach it, known once it listens (RecordingUrl).
  let apiUrl = `http://${config.http.host}:${config.http.port}`;
  // Each call's life in the log, one info line a step (created, ringing, answered, ended).
  const webhooks = loggedCallProgress(new CallWebhooks(webhookClient, signed, tokenOf, (twiml) => void parseTwiml(twiml), () => apiUrl), logger);
  // The live event stream (routes/events.ts): conference events from the bus, every call's
  // progress, gathers and recording moves through the notifiers, the other nodes' by the channel.
  const live = new LiveEvents({
    bus,
    ...(channel ? { cluster: { channel, notify: (messages) => store.notifyCluster(messages) } } : {}),
    baseUrl: () => apiUrl,
    onRelayError: (error, dropped) => logger.warn({ err: error, dropped }, 'could not relay live events to the other nodes; they reach only the streams of this node until the database answers'),
    ...(options.liveEventStreams ? { stream: options.liveEventStreams } : {}),
    onOverflow: (accountSid) => logger.info({ accountSid }, 'closed a live event stream whose client did not keep up; it can resume with Last-Event-ID'),
  });
  const progress = timeline.tapCalls(live.tapCalls(webhooks));
  const conferenceCallbacks = new ConferenceCallbacks(store, node, new ConferenceWebhooks(signed), logger);
  bus.subscribe((event) => conferenceCallbacks.onEvent(event));
  bus.subscribe((event) => logConferenceEvent(logger, event));
  channel?.onResumed(() => void conferenceCallbacks.drainHomed().catch((error: unknown) => logger.warn({ err: error }, 'could not look for conference callbacks to send')));
  shutdown.add('conference callbacks', async () => conferenceCallbacks.close());
  shutdown.add('outgoing connections', () => outbound.close());
  shutdown.add('status callbacks', () => callbacks.close());
  if (options.sweepOrphanCalls && store.kind === 'sqlite') {
    // After the callbacks are wired: the dead run's completed and leave callbacks are owed.
    const swept = await sweepOrphanCalls(core, progress);
    if (swept > 0) logger.warn({ swept }, 'ended calls left live by a previous run that did not stop cleanly');
    // And the conference callbacks a run that stopped abruptly had queued but not sent.
    await conferenceCallbacks.drainHomed();
  }
  const mediaConfig = config.media ?? DEFAULT_MEDIA_CONFIG;
  const plane = new MediaPlane(
    {
      host: mediaConfig.host,
      portRange: mediaConfig.rtpPorts,
      rtpTimeoutMs: mediaConfig.rtpTimeoutMs,
      udp: mediaConfig.udp,
      ...(mediaConfig.realtimePriority > 0 ? { realtimePriority: mediaConfig.realtimePriority, realtimeRequired: mediaConfig.realtimeRequired } : {}),
    },
    logger,
  );
  shutdown.add('media plane', () => plane.close());
  const nodeConfig = config.node ?? { leaseMs: DEFAULT_NODE_LEASE_MS, address: mediaConfig.host };
  // With several nodes a conference's rooms on different nodes are linked (conference-trunks.ts),
  // asked for through the node commands.
  const trunks = channel
    ? new ConferenceTrunks(
        plane,
        node,
        nodeConfig.address,
        {
          open: (home, request) => commands.request<RemoteAddress>(home, TRUNK_OPEN, request, TRUNK_OPEN_TIMEOUT_MS),
          close: (home, request) => commands.send(home, TRUNK_CLOSE, request),
        },
        logger,
      )
    : undefined;
  const conferenceMedia = new ConferenceMedia(plane, trunks);
  bus.subscribe((event) => conferenceMedia.onEvent(event));
  /** Applies a conference as stored now, for the events this node could not hear. */
  const resync = async (accountSid: string, conferenceSid: string): Promise<void> => {
    let conference;
    let participants;
    // Read again while events of the conference arrive during the read: applying the read then
    // would undo them (a mute told meanwhile).
    for (let attempt = 0; ; attempt++) {
      const before = conferenceMedia.eventsHeard(conferenceSid);
      conference = await store.findConference(accountSid, conferenceSid);
      if (!conference) return;
      participants = await store.listParticipants({ conferenceSid }, { pageSize: RESYNC_PAGE, page: 0 });
      if (conferenceMedia.eventsHeard(conferenceSid) === before) break;
      // Events flow again: they carry what changed since, and a busy conference would keep this going.
      if (attempt === RESYNC_ATTEMPTS) return;
    }
    const vanished = conferenceMedia.reconcile(conference, participants.items);
    const at = Date.now();
    // Told here only: what the other nodes missed they re-read themselves.
    bus.publish([
      ...vanished.map((participant) => ({ type: 'leave' as const, at, conference, participant })),
      ...(conference.status === 'completed' ? [{ type: 'end' as const, at, conference }] : []),
    ]);
    if (conferenceCallbacks.isHome(conference)) conferenceCallbacks.poke(conferenceSid);
  };
  const resyncQuietly = (accountSid: string, conferenceSid: string): void => {
    resync(accountSid, conferenceSid).catch((error: unknown) => logger.warn({ err: error, conferenceSid }, 'could not re-read a conference'));
  };
  channel?.subscribe((message) => {
    if (message.t === 'home') {
      trunks?.moved(message.conference, message.node);
      // The new home sends what was queued while the conference had none.
      if (message.node === node.id) conferenceCallbacks.poke(message.conference);
    }
    else if (message.t === 'node-dead') trunks?.nodeDead(message.node);
    else if (message.t === 'resync') resyncQuietly(message.account, message.conference);
  });
  channel?.onResumed(() => {
    for (const conference of conferenceMedia.known()) resyncQuietly(conference.accountSid, conference.sid);
  });
  plane.onTalking((callSid, talking) => {
    // A trunk is another node's room, not a caller: its callers' talking is told by their own node.
    if (callSid.startsWith(TRUNK_LEG_PREFIX)) return;
    reportSpeech(core, callSid, talking).catch((error: unknown) => logger.warn({ err: error, callSid }, 'could not report talk detection'));
  });
  const audio = new MediaAudio(plane, logger, {
    speechCommand: mediaConfig.speechCommand,
    fetchTimeoutMs: timeouts.twimlTimeoutMs,
    fetcher: new AudioFetcher({ dispatcher: outbound }),
  });
  let sip: SipGateway | undefined;
  // After the calls: their BYEs go out through it.
  shutdown.add('SIP', async () => sip?.close());
  const recordingsConfig = config.recordings ?? { dir: defaultRecordingsDir(database), retentionDays: 0 };
  const recordingStorage = new FileRecordingStorage(recordingsConfig.dir);
  const liveRecordings = new LiveRecordings(core, {
    taps: new MediaRecorderTaps(plane),
    storage: recordingStorage,
    notifier: live.tapRecordings(new RecordingWebhooks(signed, () => apiUrl)),
    logger,
    callIsHere: (callSid: string): boolean => engine.live(callSid) !== undefined,
  });
  if (options.sweepOrphanCalls) {
    // What a previous run (or a node gone from the database) left recording ends with what its file has.
    const live = store.kind === 'sqlite' ? [] : (await store.listLiveNodes()).map((n) => n.id);
    const recovered = await liveRecordings.recoverLeftovers((nodeId) => store.kind === 'sqlite' || nodeId === null || !live.includes(nodeId));
    if (recovered > 0) logger.warn({ recovered }, 'ended recordings left live by a previous run');
  }
  const retentionDays = recordingsConfig.retentionDays;
  const expire = (): void => void liveRecordings.deleteExpired(retentionDays).catch((error: unknown) => logger.warn({ err: error }, 'could not delete expired recordings'));
  const retention = retentionDays > 0 ? setInterval(expire, RETENTION_SWEEP_MS).unref() : undefined;
  if (retentionDays > 0) expire();
  shutdown.add('recording retention', async () => clearInterval(retention));
  // Last of the recordings: their MP3 worker.
  shutdown.add('recording files', () => recordingStorage.close());
  // Browsers (issue 16 §3): signed in over /client/v1 with Access Tokens, rung as client:<identity>,
  // placing calls that run their token's Application.
  const advertisedAddress = config.sip?.publicAddress;
  const clients = new ClientEndpoints({
    verify: (token) => verifyAccessToken(core, token),
    media: () => ({
      answer: (callSid, offerSdp, options) => answerWebRtc(plane, callSid, offerSdp, { ...options, ...(advertisedAddress ? { advertisedAddress } : {}) }),
      offer: (callSid, options) => offerWebRtc(plane, callSid, { ...options, ...(advertisedAddress ? { advertisedAddress } : {}) }),
    }),
    // Keys a browser sends as messages reach the call as RFC 4733 events from its leg would.
    pressed: (callSid, key) => plane.observer.emit('digit', callSid, key),
    place: (placed) => receiveClientCall(services, placed),
    logger,
  });
  const engine: CallEngine = new CallEngine(core, {
    dialer: new EndpointRouter(new SimulatedDialer(logger, plane, (url) => audio.fetchSound(url)), () => sip, logger, clients.dialer),
    twiml: webhooks,
    notifier: progress,
    audio,
    keypad: new CallKeypad(plane),
    voice: new CallVoiceActivity(plane),
    liveRecordings,
    documents: webhooks,
    conferenceAudio: audio,
    recordings: plane,
    bridge: plane.bridge,
    logger,
  });
  if (metrics) engine.onCallEnded((call) => metrics.callEnded(call.status));
  const commands = new NodeCommands(store, node, logger, channel);
  const services: RecordingServiceContext = { ...core, calls: engine, commands, recordings: liveRecordings, recordingStorage };
  handleCallCommands(services);
  handleRecordingCommands(services);
  if (trunks) {
    commands.handle(TRUNK_OPEN, (payload) => trunks.accept(payload as TrunkRequest));
    commands.handle(TRUNK_CLOSE, async (payload) => {
      const { conferenceSid, node: from } = payload as { conferenceSid: string; node: string };
      trunks.drop(conferenceSid, from);
    });
  }
  shutdown.add('commands', async () => commands.close());
  // Before the commands: the homes are told this node's trunks closed.
  shutdown.add('conference trunks', async () => trunks?.close());
  let membership: NodeMembership | undefined;
  // After the calls: a node that stopped cleanly has ended its own calls, and is marked `left`.
  shutdown.add('cluster membership', async () => membership?.close());
  // Every call ends (a BYE to each phone, its callbacks queued, pending fetches given up).
  shutdown.add('calls', () => engine.close());
  // After the calls: what they recorded is completed with what it has.
  shutdown.add('recordings', () => liveRecordings.close());
  // Ready: the database answers, the media workers run (started if they were not), SIP listens.
  const readiness = new Readiness([
    { name: 'store', check: () => store.ping() },
    { name: 'media', check: async () => void (await plane.request('stats', {})) },
    ...(config.sip ? [{ name: 'sip', check: async () => void (sip ? undefined : Promise.reject(new Error('SIP is not listening'))) }] : []),
  ]);
  const observability: Observability = { readiness: () => readiness.report(), ...(metrics ? { metrics } : {}) };
  const http = buildHttpServer(services, logger, config.http.limits, {
    routes: metricsConfig.serve === 'api' ? observability : { readiness: observability.readiness },
    ...(metrics ? { observeRequest: metrics.httpRequest } : {}),
  });
  const metricsHttp = metricsConfig.serve === 'port' ? buildMetricsServer(observability, logger) : undefined;
  shutdown.add('metrics listener', async () => metricsHttp?.close());
  let metricsUrl: string | undefined;
  // Each call's SIP messages, for its SipMessages resource (filled by the SIP gateway's trace).
  const sipMessages = new SipMessageBuffer();
  registerSipMessageRoutes(http, services, sipMessages);
  registerCallTimelineRoutes(http, services, timeline);
  shutdown.add('HTTP', () => http.close());
  registerEventRoutes(http, live);
  // SIP over WebSocket (RFC 7118) on the API port: WebRTC SIP clients (JsSIP, SIP.js) register
  // and call as phones do; refused until SIP listens (and always without SIP).
  websocketUpgrades(http).register('/sip', (request, socket, head) => {
    if (!sip) socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else sip.acceptWebSocket(request, socket, head, (request.socket as { encrypted?: boolean }).encrypted === true);
  });
  // Before HTTP: its close waits for every upgraded socket, and SIP itself closes later.
  shutdown.add('SIP WebSocket connections', async () => sip?.closeWebSockets());
  websocketUpgrades(http).register(CLIENT_SIGNALLING_PATH, (request, socket, head) => clients.upgrade(request, socket, head));
  // Before HTTP, whose close waits for every upgraded socket: the browsers are told (1001) and their calls end.
  shutdown.add('browser signalling', async () => clients.close());
  // Before HTTP: an open stream would keep it from closing.
  shutdown.add('live event streams', async () => live.close());
  const shutdownTimeoutMs = config.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

  return {
    config,
    store,
    bus,
    services,
    callbacks: {
      async idle() {
        // Every event committed so far has arrived (several nodes), its callbacks are out of the outbox, and sent.
        await channel?.sync();
        await conferenceCallbacks.idle();
        await signed.idle();
      },
    },
    http,
    logger,
    owner: ensured.account,
    ownerCreated: ensured.created,
    media: plane,
    async listen() {
      const url = await http.listen({ host: config.http.host, port: config.http.port });
      if (metricsConfig.serve === 'port' && metricsHttp && metricsUrl === undefined) {
        metricsUrl = `${await metricsHttp.listen({ host: metricsConfig.host, port: metricsConfig.port })}/metrics`;
        logger.info({ url: metricsUrl }, 'metrics listening');
      }
      apiUrl = url;
      if (config.sip && !sip) {
        const sipConfig = config.sip;
        // Every node signs digest nonces with one key, so a phone's answer to one node's
        // challenge is good at the node a front sends it to.
        const nonceKey = Buffer.from(await store.clusterSecret(SIP_NONCE_SECRET, randomBytes(32).toString('base64')), 'base64');
        sip = await SipGateway.open(
          { ...config.sip, messages: sipMessages, ...(metrics ? { observe: metrics.sipMessage } : {}) },
          plane,
          {
            route: async ({ user, from, leg, callId }) => {
              const call = await receiveSipCall(services, user, from, leg);
              if (call) sip?.traceCall(callId, call.sid);
              return call !== undefined;
            },
            domains: {
              guard: new SipDomainGuard(store, { nonceKey, failures: new SourceFailureBudget(Date.now, { exempt: sipConfig.limits?.trusted ?? [] }) }),
              route: async ({ domain, ...call }) => {
                const received = await receiveDomainCall(services, domain, call);
                if (received) sip?.traceCall(call.params.SipCallId ?? '', received.sid);
                return received !== undefined;
              },
            },
            phoneHold: (callSid, held) => conferenceMedia.phoneHold(callSid, held),
          },
          logger,
        ).catch((error: unknown) => {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
            throw new ConfigError(`SIP cannot listen on ${sipConfig.host}:${sipConfig.port} (${code}); set CONCLAVE_SIP_PORT or CONCLAVE_SIP_HOST`);
          }
          throw error;
        });
      }
      // Last: the addresses it registers with are known now.
      if (node instanceof MemberNode && !membership) {
        membership = await NodeMembership.join(
          store,
          node,
          {
            leaseMs: nodeConfig.leaseMs,
            address: nodeConfig.address,
            httpUrl: url,
            sipAddress: sip && config.sip ? `${config.sip.publicAddress}:${sip.port}` : null,
            logger,
            onDeath: async (dead) => {
              const { moved, ended } = await reapNode(services, progress, dead);
              await liveRecordings.recoverLeftovers((nodeId) => nodeId === dead);
              logger.warn({ node: dead, conferencesMoved: moved, callsEnded: ended }, 'cleared a dead node');
            },
            onFenced: async () => {
              await engine.fence();
              await trunks?.reset();
            },
          },
          channel,
        );
        logger.info({ node: node.id, address: nodeConfig.address, leaseMs: nodeConfig.leaseMs }, 'joined the nodes sharing this database');
      }
      return url;
    },
    metricsUrl() {
      return metricsUrl;
    },
    sipAddress() {
      return sip && config.sip ? { host: config.sip.publicAddress, port: sip.port } : undefined;
    },
    close() {
      return shutdown.run(shutdownTimeoutMs);
    },
  };
}
