/**
 * The configuration, and the only reader of the environment (`CONCLAVE_*`) and of command-line
 * flags. Everything else gets its slice of `Config` handed down. A bad value stops the start
 * with a ConfigError whose one line says what is wrong and how to fix it.
 */
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isSid } from './domain/sids.js';
import { parseAddressBlock } from './sip/limits/address-list.js';
import { parseSipUri } from './sip/sip-uri.js';
import { ConfigError } from './errors.js';
import { NetworkListError, parseNetworks, type Network, type OutboundRules } from './net/outbound-policy.js';

export type DatabaseConfig = { kind: 'sqlite'; path: string } | ({ kind: 'postgres'; url: string } & Partial<PostgresTimeouts>);

/** How long PostgreSQL may make a request wait before it is answered 503 (see open-postgres-store.ts). */
export interface PostgresTimeouts {
  /** Longest a statement may run, lock waits included (PostgreSQL's statement_timeout). */
  statementTimeoutMs: number;
  /** Longest wait for a connection: a new one, or a free one of the pool. */
  connectTimeoutMs: number;
}

/**
 * A statement of Conclave's takes milliseconds; 5 s is far past any healthy one (a conference row
 * lock is held for one short transaction), yet well inside the patience of an HTTP client
 * (twilio-node's RequestClient waits 30 s). A free connection comes within milliseconds too, and a new
 * one within one round trip: 2 s without one means the pool is stuck behind a lock or the server
 * is unreachable, and the request should fail fast.
 */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = { statementTimeoutMs: 5_000, connectTimeoutMs: 2_000 };

export interface Config {
  /** The API listener; `limits` absent: DEFAULT_HTTP_LIMITS. */
  http: { host: string; port: number; limits?: HttpLimits };
  database: DatabaseConfig;
  /** Owner credentials from the environment; absent means "use the credentials file". */
  owner?: { accountSid: string; authToken: string };
  /** Where generated owner credentials are kept (mode 0600). */
  credentialsFile: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a TwiML webhook may take (Twilio: 15 s), and a status callback (5 s). */
  webhooks?: { twimlTimeoutMs: number; callbackTimeoutMs: number };
  /** Networks requests to accounts' URLs may (not) reach, over the built-in list; absent: the built-in list alone. */
  outbound?: OutboundRules;
  /** The SIP listener (UDP and TCP, and TLS when configured); absent: no SIP at all (sip: endpoints are refused). */
  sip?: SipConfig;
  /** The media plane; absent: the defaults below. */
  media?: MediaConfig;
  /** How long a stop (SIGTERM) may take before the process exits anyway; absent: DEFAULT_SHUTDOWN_TIMEOUT_MS. */
  shutdownTimeoutMs?: number;
  /** Several nodes on one PostgreSQL; absent: DEFAULT_NODE_LEASE_MS, and the SIP public address. */
  node?: NodeConfig;
  /** Where recordings are kept and for how long; absent: defaultRecordingsDir(database), kept for ever. */
  recordings?: RecordingsConfig;
  /** Where `/metrics` is served; absent: DEFAULT_METRICS_CONFIG. */
  metrics?: MetricsConfig;
}

/**
 * Where the Prometheus `/metrics` is served (CONCLAVE_METRICS): not at all, on the API listener
 * (behind an owner account's credentials), or on a listener of its own (CONCLAVE_METRICS_PORT,
 * on CONCLAVE_METRICS_HOST or the API's host), open to whoever reaches it.
 */
export type MetricsConfig = { serve: 'off' } | { serve: 'api' } | { serve: 'port'; host: string; port: number };

/**
 * On the API port by default: a scrape works out of the box (Prometheus sends basic_auth), and
 * call counts are not told to whoever reaches the API, as an owner account's credentials are
 * asked for there. A port of its own is the operator's choice for a private network.
 */
export const DEFAULT_METRICS_CONFIG: MetricsConfig = { serve: 'api' };

export interface RecordingsConfig {
  /**
   * The directory of the recordings' WAV and MP3 files (CONCLAVE_RECORDINGS_DIR). Several nodes
   * on one PostgreSQL must all be given one shared directory (NFS or the like), so that every
   * node serves every recording: bulk audio is kept in files, not in the database.
   */
  dir: string;
  /** Days a recording is kept before it is deleted (CONCLAVE_RECORDINGS_RETENTION_DAYS); 0 = for ever. */
  retentionDays: number;
}

/** A hundred years: a larger retention is "for ever" written wrongly. */
const MAX_RETENTION_DAYS = 36_500;

/** Recordings beside the SQLite database file (as the credentials file), or ./data/recordings. */
export function defaultRecordingsDir(database: DatabaseConfig): string {
  return database.kind === 'sqlite' && database.path !== ':memory:' ? join(dirname(database.path), 'recordings') : resolve('./data/recordings');
}

export interface NodeConfig {
  /** How long a node that stops renewing its lease lives on for the others (CONCLAVE_NODE_LEASE_MS). */
  leaseMs: number;
  /** The IPv4 address other nodes reach this one on, for conference trunks (CONCLAVE_NODE_ADDRESS). */
  address: string;
}

/**
 * 10 s for a stop: enough to BYE every phone, end every call and deliver its callbacks (a
 * callback gets 5 s), short of systemd's 90 s and Kubernetes' 30 s grace before a SIGKILL.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** A node silent this long is declared dead; with a check every quarter lease, cleared in about 6–7 s. */
export const DEFAULT_NODE_LEASE_MS = 5_000;

export interface SipConfig {
  /** Address the SIP sockets bind to. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The address put in Via, Contact and SDP: how peers reach us (NAT, 0.0.0.0 binds). */
  publicAddress: string;
  /** Per-source budgets and global caps against floods; absent: DEFAULT_SIP_LIMITS. */
  limits?: SipLimits;
  /**
   * DNS servers for SIP host names (RFC 3263 NAPTR, SRV and A lookups), `ip` or `ip:port`
   * (`[ipv6]:port`), tried in order (CONCLAVE_SIP_DNS_SERVERS); absent: the system's resolv.conf.
   */
  dnsServers?: string[];
  /** SIP over TLS (RFC 3261 §26.2); absent: off (no certificate and key given). */
  tls?: SipTlsConfig;
  /**
   * Where calls to the account's numbers may come from (CONCLAVE_SIP_CARRIER_NETWORKS): the
   * networks of the carriers and PBXs that deliver them, as CIDR blocks. The trunk's own
   * addresses are always let in besides. Absent: DEFAULT_CARRIER_NETWORKS (loopback and private
   * networks, so a lab keeps working); empty: only the trunk. SIP Domains decide for themselves.
   */
  carrierNetworks?: string[];
  /** The carrier trunk that calls to E.164 numbers go out through; absent: none (they fail). */
  trunk?: SipTrunkConfig;
  /** Every SIP message in and out logged at info (CONCLAVE_SIP_TRACE=true); false: only at trace level. */
  trace?: boolean;
}

/**
 * A carrier's SIP trunk (issue 14 §4): calls to phone numbers go to `uri` with the number as the
 * user part; the carrier's digest challenges are answered with `auth`; with `register`, Conclave
 * registers with it (RFC 3261 §10.2) so it delivers calls to our Contact.
 */
export interface SipTrunkConfig {
  /**
   * The trunk's SIP URI, host a DNS name or an address, with optional port and `transport`
   * (CONCLAVE_SIP_TRUNK, e.g. `sip:sip.carrier.example;transport=tls`, `sip:203.0.113.5:5080`).
   */
  uri: string;
  /** Digest credentials (CONCLAVE_SIP_TRUNK_USERNAME, CONCLAVE_SIP_TRUNK_PASSWORD); absent: none. */
  auth?: { username: string; password: string };
  /** Register with the carrier (CONCLAVE_SIP_TRUNK_REGISTER=true); needs `auth`. */
  register: boolean;
  /** Seconds each registration asks for (CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES, 60–86400; default 600). */
  registerExpires: number;
}

/**
 * Loopback and private networks (RFC 1918, RFC 4193): where a lab's phones and PBXs are, and
 * no stranger on the internet is.
 */
export const DEFAULT_CARRIER_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];
/** Ten minutes: what carriers commonly grant; the registration is renewed halfway. */
export const DEFAULT_TRUNK_REGISTER_EXPIRES_S = 600;

/** The TLS listener and the PEM files it needs (absolute paths; read when SIP starts). */
export interface SipTlsConfig {
  /** TCP port of the TLS listener (CONCLAVE_SIP_TLS_PORT, default 5061; 0: any free port). */
  port: number;
  /** Our certificate chain (CONCLAVE_SIP_TLS_CERT). */
  certFile: string;
  /** Its private key (CONCLAVE_SIP_TLS_KEY). */
  keyFile: string;
  /** CAs that peers' certificates must chain to (CONCLAVE_SIP_TLS_CA); absent: the system's. */
  caFile?: string;
}

/** What one source address, and everyone together, may take of the SIP listener (issue #10: floods). */
export interface SipLimits {
  /** New INVITEs a second from one address (a token bucket, this deep); 0 = no limit. */
  invitesPerSecond: number;
  /** New REGISTERs a second from one address; 0 = no limit. */
  registersPerSecond: number;
  /** Live server transactions in all (each lasts up to 32 s after its answer); 0 = no cap. */
  maxTransactions: number;
  /** Inbound TCP connections from one address; 0 = no limit. */
  tcpPerSource: number;
  /** TCP connections in all; 0 = no cap. */
  tcpMax: number;
  /** Addresses and CIDR blocks (a trunk, a proxy) that the per-source limits do not apply to. */
  trusted: string[];
}

/**
 * 500 new calls a second from one address lets a busy PBX trunk through untouched (trunks send
 * tens to a few hundred calls a second, all from one address) while a flood of 10,000 a second
 * is cut to that; other requests (BYE, CANCEL, OPTIONS) get the same rate. Conclave is no
 * registrar (REGISTER is answered 501), so 20 a second is plenty. A trunk at 500 calls a second
 * keeps some 32,000 transactions alive (an INVITE and a BYE a call, each kept 32 s); 50,000
 * leaves room above that and bounds them at about 170 MB of heap (~3.3 KB each). A trunk keeps
 * one TCP connection or a few; 64 an address still lets 64 phones behind one NAT in, and 1024
 * in all is what one process's default file limit allows.
 */
export const DEFAULT_SIP_LIMITS: SipLimits = {
  invitesPerSecond: 500,
  registersPerSecond: 20,
  maxTransactions: 50_000,
  tcpPerSource: 64,
  tcpMax: 1024,
  trusted: [],
};

export interface MediaConfig {
  /** Address RTP sockets bind to. */
  host: string;
  /** Inclusive range of local RTP ports (even ports are taken, RFC 3550 §11). */
  rtpPorts: { min: number; max: number };
  /** A leg whose RTP stops for this long is hung up; 0 = never. */
  rtpTimeoutMs: number;
  /** The espeak-ng program used for `<Say>`. */
  speechCommand: string;
  /** SCHED_FIFO priority of the media threads (1–99), as Asterisk `-p`; 0 = normal scheduling. */
  realtimePriority: number;
  /** Whether that priority was asked for explicitly (then not getting it is a warning). */
  realtimeRequired: boolean;
  /** 'native': batched UDP per 20 ms tick where the module built; 'dgram': node:dgram always. */
  udp: 'native' | 'dgram';
}

/** What one client may hold of the API listener (issue #10: slow bodies, password guessing). */
export interface HttpLimits {
  /** How long a client may take to send a whole request, headers and body (Node's `requestTimeout`); 0 = no limit. */
  requestTimeoutMs: number;
  /** Request bodies still arriving from one client address at once; 0 = no cap. */
  maxUnfinishedBodies: number;
  /** Failed logins in a minute from one client address before it is answered 429; 0 = no throttle. */
  loginFailuresPerSource: number;
  /** Failed logins in a minute for one account (or key) before addresses new to it are answered 429; 0 = no throttle. */
  loginFailuresPerAccount: number;
}

/**
 * 30 s for a whole request: Conclave's bodies are form posts of a few KB (1 MB at most), which
 * take milliseconds on any working link; Node's own 300 s default is made for uploads. 16 bodies
 * arriving at once per address leaves room for a busy client's burst and caps one address at
 * 16 MB of buffered bodies. 10 failed logins a minute per address, 100 per account.
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  maxUnfinishedBodies: 16,
  loginFailuresPerSource: 10,
  loginFailuresPerAccount: 100,
};

export const DEFAULT_SIP_PORT = 5060;
/** RFC 3261 §19.1.2: SIP over TLS listens on 5061. */
export const DEFAULT_SIP_TLS_PORT = 5061;
export const DEFAULT_RTP_PORTS = { min: 10000, max: 20000 };
/**
 * The media threads' SCHED_FIFO priority unless CONCLAVE_MEDIA_REALTIME says otherwise, where
 * the process may set it (root or CAP_SYS_NICE), as FreeSWITCH's packaged service runs `-rp`.
 */
export const AUTO_REALTIME_PRIORITY = 10;
/** The media settings of an app built without them (tests, tools): loadConfig's defaults. */
export const DEFAULT_MEDIA_CONFIG: MediaConfig = {
  host: '127.0.0.1',
  rtpPorts: DEFAULT_RTP_PORTS,
  rtpTimeoutMs: 30_000,
  speechCommand: 'espeak-ng',
  realtimePriority: AUTO_REALTIME_PRIORITY,
  realtimeRequired: false,
  udp: 'native',
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DEFAULT_SQLITE_PATH = './data/conclave.db';

export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const flags = parseFlags(argv);
  const host = flags.host ?? env.CONCLAVE_HTTP_HOST ?? '127.0.0.1';
  const port = parsePort(flags.port ?? env.CONCLAVE_HTTP_PORT ?? '8080', flags.port ? '--port' : 'CONCLAVE_HTTP_PORT');
  const database = parseDatabase(flags.database ?? env.CONCLAVE_DATABASE ?? DEFAULT_SQLITE_PATH, env);
  const owner = parseOwner(env.CONCLAVE_ACCOUNT_SID, env.CONCLAVE_AUTH_TOKEN);
  const logLevel = (env.CONCLAVE_LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`CONCLAVE_LOG_LEVEL=${logLevel} is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  }
  const credentialsFile =
    env.CONCLAVE_CREDENTIALS_FILE ??
    (database.kind === 'sqlite' && database.path !== ':memory:'
      ? join(dirname(database.path), 'credentials.json')
      : resolve('./data/credentials.json'));
  const webhooks = {
    twimlTimeoutMs: milliseconds(env.CONCLAVE_WEBHOOK_TIMEOUT_MS, 'CONCLAVE_WEBHOOK_TIMEOUT_MS', 15_000),
    callbackTimeoutMs: milliseconds(env.CONCLAVE_CALLBACK_TIMEOUT_MS, 'CONCLAVE_CALLBACK_TIMEOUT_MS', 5_000),
  };
  const sip = parseSip(flags, env);
  const media: MediaConfig = {
    host: sip.host,
    rtpPorts: parsePortRange(env.CONCLAVE_RTP_PORTS),
    rtpTimeoutMs: parseRtpTimeout(env.CONCLAVE_RTP_TIMEOUT),
    speechCommand: env.CONCLAVE_ESPEAK ?? DEFAULT_MEDIA_CONFIG.speechCommand,
    ...parseRealtime(env.CONCLAVE_MEDIA_REALTIME),
    udp: parseMediaUdp(env.CONCLAVE_MEDIA_UDP),
  };
  const limits: HttpLimits = {
    requestTimeoutMs: milliseconds(env.CONCLAVE_HTTP_REQUEST_TIMEOUT_MS, 'CONCLAVE_HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    maxUnfinishedBodies: count(env.CONCLAVE_HTTP_MAX_UNFINISHED_BODIES, 'CONCLAVE_HTTP_MAX_UNFINISHED_BODIES', DEFAULT_HTTP_LIMITS.maxUnfinishedBodies),
    loginFailuresPerSource: count(env.CONCLAVE_LOGIN_FAILURES_PER_SOURCE, 'CONCLAVE_LOGIN_FAILURES_PER_SOURCE', DEFAULT_HTTP_LIMITS.loginFailuresPerSource),
    loginFailuresPerAccount: count(env.CONCLAVE_LOGIN_FAILURES_PER_ACCOUNT, 'CONCLAVE_LOGIN_FAILURES_PER_ACCOUNT', DEFAULT_HTTP_LIMITS.loginFailuresPerAccount),
  };
  const outbound = { allow: parseNetworkList(env.CONCLAVE_WEBHOOK_ALLOW, 'CONCLAVE_WEBHOOK_ALLOW'), deny: parseNetworkList(env.CONCLAVE_WEBHOOK_DENY, 'CONCLAVE_WEBHOOK_DENY') };
  const shutdownTimeoutMs = milliseconds(env.CONCLAVE_SHUTDOWN_TIMEOUT_MS, 'CONCLAVE_SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS);
  const node: NodeConfig = {
    leaseMs: milliseconds(env.CONCLAVE_NODE_LEASE_MS, 'CONCLAVE_NODE_LEASE_MS', DEFAULT_NODE_LEASE_MS),
    address: env.CONCLAVE_NODE_ADDRESS ?? sip.publicAddress,
  };
  if (!isIpv4(node.address) || node.address === '0.0.0.0') {
    throw new ConfigError(`CONCLAVE_NODE_ADDRESS=${node.address} is not a usable IPv4 address; set the address other nodes reach this one at`);
  }
  return {
    http: { host, port, limits },
    database,
    ...(owner ? { owner } : {}),
    credentialsFile: resolve(credentialsFile),
    logLevel,
    webhooks,
    outbound,
    sip,
    media,
    shutdownTimeoutMs,
    node,
    recordings: parseRecordings(env, database),
    metrics: parseMetrics(env, host),
  };
}

function parseMetrics(env: NodeJS.ProcessEnv, apiHost: string): MetricsConfig {
  const port = env.CONCLAVE_METRICS_PORT;
  const serve = env.CONCLAVE_METRICS ?? (port === undefined ? DEFAULT_METRICS_CONFIG.serve : 'port');
  if (serve !== 'off' && serve !== 'api' && serve !== 'port') throw new ConfigError(`CONCLAVE_METRICS=${serve} is not off, api or port`);
  if (serve !== 'port') {
    if (port !== undefined) throw new ConfigError(`CONCLAVE_METRICS_PORT is set but CONCLAVE_METRICS=${serve}; use CONCLAVE_METRICS=port or unset CONCLAVE_METRICS_PORT`);
    return { serve };
  }
  if (port === undefined) throw new ConfigError('CONCLAVE_METRICS=port needs CONCLAVE_METRICS_PORT');
  return { serve, host: env.CONCLAVE_METRICS_HOST ?? apiHost, port: parsePort(port, 'CONCLAVE_METRICS_PORT') };
}

function parseRecordings(env: NodeJS.ProcessEnv, database: DatabaseConfig): RecordingsConfig {
  const dir = env.CONCLAVE_RECORDINGS_DIR;
  const days = env.CONCLAVE_RECORDINGS_RETENTION_DAYS;
  if (days !== undefined && days !== '' && (!/^\d{1,6}$/.test(days) || Number(days) > MAX_RETENTION_DAYS)) {
    throw new ConfigError(`CONCLAVE_RECORDINGS_RETENTION_DAYS=${days} is not a number of days; use a whole number from 0 (keep for ever) to ${MAX_RETENTION_DAYS}`);
  }
  return {
    dir: dir === undefined || dir.trim() === '' ? defaultRecordingsDir(database) : resolve(dir),
    retentionDays: days === undefined || days === '' ? 0 : Number(days),
  };
}

function parseSip(flags: { 'sip-port'?: string }, env: NodeJS.ProcessEnv): SipConfig {
  const host = env.CONCLAVE_SIP_HOST ?? '127.0.0.1';
  if (!isIpv4(host)) throw new ConfigError(`CONCLAVE_SIP_HOST=${host} is not an IPv4 address; SIP and RTP bind to one (0.0.0.0 for all)`);
  const portName = flags['sip-port'] ? '--sip-port' : 'CONCLAVE_SIP_PORT';
  const port = parsePort(flags['sip-port'] ?? env.CONCLAVE_SIP_PORT ?? String(DEFAULT_SIP_PORT), portName);
  const publicAddress = env.CONCLAVE_PUBLIC_ADDRESS ?? (host === '0.0.0.0' ? firstExternalIpv4() : host);
  if (!isIpv4(publicAddress) || publicAddress === '0.0.0.0') {
    throw new ConfigError(`CONCLAVE_PUBLIC_ADDRESS=${publicAddress} is not a usable IPv4 address; set the address phones reach Conclave at`);
  }
  const dnsServers = parseDnsServers(env.CONCLAVE_SIP_DNS_SERVERS);
  const tls = parseSipTls(env, port);
  const carrierNetworks = parseCarrierNetworks(env.CONCLAVE_SIP_CARRIER_NETWORKS);
  const trunk = parseSipTrunk(env);
  const trace = env.CONCLAVE_SIP_TRACE;
  if (trace !== undefined && trace !== 'true' && trace !== 'false') throw new ConfigError(`CONCLAVE_SIP_TRACE=${trace} is not true or false`);
  return {
    host,
    port,
    publicAddress,
    limits: parseSipLimits(env),
    ...(dnsServers ? { dnsServers } : {}),
    ...(tls ? { tls } : {}),
    carrierNetworks,
    ...(trunk ? { trunk } : {}),
    trace: trace === 'true',
  };
}

/** A comma-separated list of addresses and CIDR blocks; `none` for no network but the trunk's. */
function parseCarrierNetworks(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [...DEFAULT_CARRIER_NETWORKS];
  if (value.trim() === 'none') return [];
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!parseAddressBlock(entry)) {
      throw new ConfigError(`CONCLAVE_SIP_CARRIER_NETWORKS has "${entry}", which is not an IP address or CIDR block; write e.g. 203.0.113.0/24,198.51.100.7 (or none: the trunk alone)`);
    }
  }
  return entries;
}

function parseSipTrunk(env: NodeJS.ProcessEnv): SipTrunkConfig | undefined {
  const given = (name: string): string | undefined => (env[name] === undefined || env[name].trim() === '' ? undefined : env[name].trim());
  const uri = given('CONCLAVE_SIP_TRUNK');
  const username = given('CONCLAVE_SIP_TRUNK_USERNAME');
  const password = env.CONCLAVE_SIP_TRUNK_PASSWORD === '' ? undefined : env.CONCLAVE_SIP_TRUNK_PASSWORD;
  const registerText = given('CONCLAVE_SIP_TRUNK_REGISTER');
  const expiresText = given('CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES');
  if (uri === undefined) {
    const stray = ['CONCLAVE_SIP_TRUNK_USERNAME', 'CONCLAVE_SIP_TRUNK_PASSWORD', 'CONCLAVE_SIP_TRUNK_REGISTER', 'CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES'].find((name) => given(name) !== undefined);
    if (stray) throw new ConfigError(`${stray} is set but there is no trunk; set CONCLAVE_SIP_TRUNK to the carrier's SIP URI (e.g. sip:sip.carrier.example;transport=tls)`);
    return undefined;
  }
  const parsed = parseSipUri(uri);
  const transport = parsed?.params.get('transport');
  if (!parsed || parsed.host === '' || (typeof transport === 'string' && !['udp', 'tcp', 'tls'].includes(transport.toLowerCase()))) {
    throw new ConfigError(`CONCLAVE_SIP_TRUNK=${uri} is not a SIP URI of a trunk; write it as sip:host[:port][;transport=udp|tcp|tls] or sips:host[:port], e.g. sip:sip.carrier.example;transport=tls`);
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('CONCLAVE_SIP_TRUNK_USERNAME and CONCLAVE_SIP_TRUNK_PASSWORD go together; set both (the digest credentials the carrier gave you), or neither');
  }
  if (registerText !== undefined && registerText !== 'true' && registerText !== 'false') {
    throw new ConfigError(`CONCLAVE_SIP_TRUNK_REGISTER=${registerText} is not true or false`);
  }
  const register = registerText === 'true';
  if (register && username === undefined) {
    throw new ConfigError('CONCLAVE_SIP_TRUNK_REGISTER=true needs CONCLAVE_SIP_TRUNK_USERNAME and CONCLAVE_SIP_TRUNK_PASSWORD: carriers register only who signs in');
  }
  if (expiresText !== undefined && (!/^\d{1,5}$/.test(expiresText) || Number(expiresText) < 60 || Number(expiresText) > 86_400)) {
    throw new ConfigError(`CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES=${expiresText} is not a number of seconds; use 60 to 86400`);
  }
  return {
    uri,
    ...(username !== undefined && password !== undefined ? { auth: { username, password } } : {}),
    register,
    registerExpires: expiresText === undefined ? DEFAULT_TRUNK_REGISTER_EXPIRES_S : Number(expiresText),
  };
}

/** TLS is on when a certificate and a key are given; the port and CA settings only go with them. */
function parseSipTls(env: NodeJS.ProcessEnv, sipPort: number): SipTlsConfig | undefined {
  const given = (name: string): string | undefined => (env[name] === undefined || env[name].trim() === '' ? undefined : env[name]);
  const cert = given('CONCLAVE_SIP_TLS_CERT');
  const key = given('CONCLAVE_SIP_TLS_KEY');
  if (cert === undefined && key === undefined) {
    const stray = ['CONCLAVE_SIP_TLS_PORT', 'CONCLAVE_SIP_TLS_CA'].find((name) => given(name) !== undefined);
    if (stray) throw new ConfigError(`${stray} is set but SIP over TLS is off; set CONCLAVE_SIP_TLS_CERT and CONCLAVE_SIP_TLS_KEY (PEM files) to turn it on`);
    return undefined;
  }
  if (cert === undefined || key === undefined) {
    throw new ConfigError('CONCLAVE_SIP_TLS_CERT and CONCLAVE_SIP_TLS_KEY go together; set both (PEM files: the certificate chain and its key), or neither for no TLS');
  }
  const port = parsePort(given('CONCLAVE_SIP_TLS_PORT') ?? String(DEFAULT_SIP_TLS_PORT), 'CONCLAVE_SIP_TLS_PORT');
  if (port !== 0 && port === sipPort) {
    throw new ConfigError(`CONCLAVE_SIP_TLS_PORT=${port} is the SIP port, where SIP over TCP listens; use another (5061 is the usual)`);
  }
  const ca = given('CONCLAVE_SIP_TLS_CA');
  return { port, certFile: readable(cert, 'CONCLAVE_SIP_TLS_CERT'), keyFile: readable(key, 'CONCLAVE_SIP_TLS_KEY'), ...(ca ? { caFile: readable(ca, 'CONCLAVE_SIP_TLS_CA') } : {}) };
}

/** The absolute path of a file this process can read. */
function readable(path: string, name: string): string {
  const absolute = resolve(path);
  try {
    accessSync(absolute, constants.R_OK);
  } catch (error) {
    throw new ConfigError(`${name}=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a PEM file this process may read`);
  }
  return absolute;
}

/** `ip`, `ip:port`, a bare IPv6 address or `[ipv6]:port`, as node:dns `setServers` takes them. */
function parseDnsServers(value: string | undefined): string[] | undefined {
  const servers = (value ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (servers.length === 0) return undefined;
  for (const server of servers) {
    const m = /^(?:\[([^\]]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}))?$/.exec(server);
    const address = m ? (m[1] ?? m[2] ?? '') : server;
    const port = m?.[3];
    const valid = m ? isIP(address) === (m[1] === undefined ? 4 : 6) && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535)) : isIP(server) === 6;
    if (!valid) {
      throw new ConfigError(`CONCLAVE_SIP_DNS_SERVERS has "${server}", which is not a DNS server address; write IP addresses with optional ports, e.g. 192.0.2.53,198.51.100.53:5353,[2001:db8::53]:53`);
    }
  }
  return servers;
}

function parseSipLimits(env: NodeJS.ProcessEnv): SipLimits {
  const d = DEFAULT_SIP_LIMITS;
  const number = (name: string, fallback: number, max: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    if (!/^\d{1,8}$/.test(value) || Number(value) > max) {
      throw new ConfigError(`${name}=${value} is not a limit; use a whole number from 0 (no limit) to ${max}`);
    }
    return Number(value);
  };
  const trusted = (env.CONCLAVE_SIP_TRUSTED ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of trusted) {
    if (!parseAddressBlock(entry)) {
      throw new ConfigError(`CONCLAVE_SIP_TRUSTED has "${entry}", which is not an IP address or CIDR block; write e.g. 192.0.2.10,198.51.100.0/24`);
    }
  }
  return {
    invitesPerSecond: number('CONCLAVE_SIP_INVITE_RATE', d.invitesPerSecond, 100_000),
    registersPerSecond: number('CONCLAVE_SIP_REGISTER_RATE', d.registersPerSecond, 100_000),
    maxTransactions: number('CONCLAVE_SIP_MAX_TRANSACTIONS', d.maxTransactions, 10_000_000),
    tcpPerSource: number('CONCLAVE_SIP_TCP_PER_SOURCE', d.tcpPerSource, 1_000_000),
    tcpMax: number('CONCLAVE_SIP_TCP_MAX', d.tcpMax, 1_000_000),
    trusted,
  };
}

function isIpv4(value: string): boolean {
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(value) && value.split('.').every((n) => Number(n) <= 255);
}

/** With SIP bound to every interface, SDP must still name one address: the first non-internal one. */
function firstExternalIpv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function parsePortRange(value: string | undefined): { min: number; max: number } {
  if (value === undefined || value === '') return DEFAULT_RTP_PORTS;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65535 || max - min < 1) {
    throw new ConfigError(`CONCLAVE_RTP_PORTS=${value} is not a port range; write it as 10000-20000 (from 1024 to 65535, at least two ports)`);
  }
  return { min, max };
}

function parseRtpTimeout(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_MEDIA_CONFIG.rtpTimeoutMs;
  if (!/^\d+$/.test(value) || Number(value) > 3600) {
    throw new ConfigError(`CONCLAVE_RTP_TIMEOUT=${value} is not a number of seconds; use 0 (never) to 3600`);
  }
  return Number(value) * 1000;
}

function parseRealtime(value: string | undefined): Pick<MediaConfig, 'realtimePriority' | 'realtimeRequired'> {
  if (value === undefined || value === '' || value === 'auto') return { realtimePriority: DEFAULT_MEDIA_CONFIG.realtimePriority, realtimeRequired: false };
  if (value === 'off') return { realtimePriority: 0, realtimeRequired: false };
  if (!/^\d{1,2}$/.test(value)) {
    throw new ConfigError(`CONCLAVE_MEDIA_REALTIME=${value} is not a real-time priority; use 1 to 99 (SCHED_FIFO), 0/off, or auto`);
  }
  return { realtimePriority: Number(value), realtimeRequired: Number(value) > 0 };
}

function parseMediaUdp(value: string | undefined): MediaConfig['udp'] {
  if (value === undefined || value === '') return DEFAULT_MEDIA_CONFIG.udp;
  if (value !== 'native' && value !== 'dgram') throw new ConfigError(`CONCLAVE_MEDIA_UDP=${value} is not a UDP path; use native or dgram`);
  return value;
}

function parseNetworkList(value: string | undefined, name: string): Network[] {
  try {
    return parseNetworks(value ?? '');
  } catch (error) {
    if (!(error instanceof NetworkListError)) throw error;
    throw new ConfigError(`${name}=${value} is not a list of networks: ${error.message}; write CIDR blocks separated by commas, e.g. 10.0.0.0/8,fc00::/7`);
  }
}

function milliseconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 100 || Number(value) > 120_000) {
    throw new ConfigError(`${name}=${value} is not a timeout; use milliseconds from 100 to 120000`);
  }
  return Number(value);
}

/** A whole number of things (0 turns the limit off), at most 100000. */
function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,6}$/.test(value) || Number(value) > 100_000) {
    throw new ConfigError(`${name}=${value} is not a limit; use a whole number from 0 (no limit) to 100000`);
  }
  return Number(value);
}

function parseFlags(argv: string[]): { host?: string; port?: string; database?: string; 'sip-port'?: string } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { host: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' }, 'sip-port': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; flags of "conclave serve" are --host, --port, --sip-port and --database`);
  }
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new ConfigError(`${name}=${value} is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)`);
  }
  return port;
}

function parseDatabase(value: string, env: NodeJS.ProcessEnv): DatabaseConfig {
  const statementTimeoutMs = milliseconds(env.CONCLAVE_DATABASE_STATEMENT_TIMEOUT_MS, 'CONCLAVE_DATABASE_STATEMENT_TIMEOUT_MS', DEFAULT_POSTGRES_TIMEOUTS.statementTimeoutMs);
  const connectTimeoutMs = milliseconds(env.CONCLAVE_DATABASE_CONNECT_TIMEOUT_MS, 'CONCLAVE_DATABASE_CONNECT_TIMEOUT_MS', DEFAULT_POSTGRES_TIMEOUTS.connectTimeoutMs);
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError(`CONCLAVE_DATABASE=${value} is not a valid URL; write it as postgres://user@host:5432/database`);
    }
    return { kind: 'postgres', url: value, statementTimeoutMs, connectTimeoutMs };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConfigError(`CONCLAVE_DATABASE=${value} names an unknown engine; use a file path for SQLite or a postgres:// URL`);
  }
  if (value.trim() === '') throw new ConfigError('CONCLAVE_DATABASE is empty; use a file path for SQLite or a postgres:// URL');
  return { kind: 'sqlite', path: value === ':memory:' ? value : resolve(value) };
}

function parseOwner(accountSid: string | undefined, authToken: string | undefined): Config['owner'] {
  if (accountSid === undefined && authToken === undefined) return undefined;
  if (accountSid === undefined || authToken === undefined) {
    throw new ConfigError('CONCLAVE_ACCOUNT_SID and CONCLAVE_AUTH_TOKEN go together; set both, or neither to get generated credentials');
  }
  if (!isSid(accountSid, 'AC')) {
    throw new ConfigError(`CONCLAVE_ACCOUNT_SID=${accountSid} is not an account SID; it must be AC followed by 32 hex digits`);
  }
  if (authToken.length < 16) {
    throw new ConfigError('CONCLAVE_AUTH_TOKEN is too short; use at least 16 characters (Twilio tokens are 32 hex digits)');
  }
  return { accountSid: accountSid.slice(0, 2) + accountSid.slice(2).toLowerCase(), authToken };
}
