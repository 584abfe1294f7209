/**
 * The configuration, and the only reader of the environment (`CONCLAVE_*`) and of command-line
 * flags. Everything else gets its slice of `Config` handed down. A bad value stops the start
 * with a ConfigError whose one line says what is wrong and how to fix it.
 */
import { resolve, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isSid } from './domain/sids.js';
import { ConfigError } from './errors.js';

export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Config {
  http: { host: string; port: number };
  database: DatabaseConfig;
  /** Owner credentials from the environment; absent means "use the credentials file". */
  owner?: { accountSid: string; authToken: string };
  /** Where generated owner credentials are kept (mode 0600). */
  credentialsFile: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a TwiML webhook may take (Twilio: 15 s), and a status callback (5 s). */
  webhooks?: { twimlTimeoutMs: number; callbackTimeoutMs: number };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DEFAULT_SQLITE_PATH = './data/conclave.db';

export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const flags = parseFlags(argv);
  const host = flags.host ?? env.CONCLAVE_HTTP_HOST ?? '127.0.0.1';
  const port = parsePort(flags.port ?? env.CONCLAVE_HTTP_PORT ?? '8080', flags.port ? '--port' : 'CONCLAVE_HTTP_PORT');
  const database = parseDatabase(flags.database ?? env.CONCLAVE_DATABASE ?? DEFAULT_SQLITE_PATH);
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
  return { http: { host, port }, database, ...(owner ? { owner } : {}), credentialsFile: resolve(credentialsFile), logLevel, webhooks };
}

function milliseconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 100 || Number(value) > 120_000) {
    throw new ConfigError(`${name}=${value} is not a timeout; use milliseconds from 100 to 120000`);
  }
  return Number(value);
}

function parseFlags(argv: string[]): { host?: string; port?: string; database?: string } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { host: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; flags of "conclave serve" are --host, --port and --database`);
  }
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new ConfigError(`${name}=${value} is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)`);
  }
  return port;
}

function parseDatabase(value: string): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError(`CONCLAVE_DATABASE=${value} is not a valid URL; write it as postgres://user@host:5432/database`);
    }
    return { kind: 'postgres', url: value };
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
