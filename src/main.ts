/**
 * The only entry. `conclave serve [--host H] [--port P] [--database D]` reads the
 * configuration, starts the app, prints where it listens, which store it uses and the
 * credentials; SIGTERM and SIGINT close it gracefully. `conclave status` prints what a running
 * server has live (cli/status-command.ts); `conclave join …` puts a participant in a conference
 * (cli/join-command.ts); `conclave call …` places a simulated inbound call through the running
 * server (cli/call-command.ts). `--help` (also after a command) and `--version`; a command line
 * it does not understand exits 2 with one line (cli/usage-error.ts).
 */
import { parseArgs } from 'node:util';
import { createApp } from './app.js';
import { resolveOwnerCredentials } from './cli/owner-credentials.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { parseJoinFlags, runJoin } from './cli/join-command.js';
import { parseCallFlags, runCall } from './cli/call-command.js';
import { parseStatusFlags, runStatus } from './cli/status-command.js';
import { COMMAND_HELP, conclaveVersion, GENERAL_HELP } from './cli/help.js';
import { UsageError } from './cli/usage-error.js';

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = rest[0] === undefined ? undefined : COMMAND_HELP[rest[0]];
    if (rest[0] !== undefined && topic === undefined) throw new UsageError(`unknown command "${rest[0]}"`);
    process.stdout.write(`${topic ?? GENERAL_HELP}\n`);
    return;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`conclave ${conclaveVersion()}\n`);
    return;
  }
  const help = COMMAND_HELP[command];
  if (help === undefined) throw new UsageError(command.startsWith('-') ? `unknown option "${command}" (flags go after the command, e.g. conclave serve ${command})` : `unknown command "${command}"`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${help}\n`);
    return;
  }
  if (command === 'status') {
    const flags = parseStatusFlags(rest);
    process.stdout.write(await runStatus(loadConfig(flags.configArgs)));
    return;
  }
  if (command === 'join') {
    const flags = parseJoinFlags(rest);
    process.stdout.write(await runJoin(loadConfig(flags.configArgs), flags));
    return;
  }
  if (command === 'call') {
    const flags = parseCallFlags(rest);
    process.stdout.write(await runCall(loadConfig(flags.configArgs), flags));
    return;
  }
  parseServeFlags(rest);
  const config = loadConfig(rest);
  const credentials = resolveOwnerCredentials(config);
  const app = await createApp(config, credentials, { sweepOrphanCalls: true });
  const url = await app.listen();
  const store = config.database.kind === 'sqlite' ? `SQLite at ${config.database.path}` : `PostgreSQL at ${redact(config.database.url)}`;
  const where =
    credentials.source === 'environment' ? 'from CONCLAVE_ACCOUNT_SID / CONCLAVE_AUTH_TOKEN' : `kept in ${config.credentialsFile}`;
  process.stdout.write(
    [
      `Conclave is listening on ${url}/2010-04-01`,
      `Store: ${store}`,
      ...(app.sipAddress() ? [`SIP: sip:<number>@${app.sipAddress()!.host}:${app.sipAddress()!.port} (UDP and TCP); RTP ports ${config.media!.rtpPorts.min}-${config.media!.rtpPorts.max}`] : []),
      ...(app.sipAddress() && config.sip?.trunk?.register ? [`SIP trunk: registering with ${config.sip.trunk.uri} as ${config.sip.trunk.auth?.username ?? ''} (the log says when it is registered)`] : []),
      `Owner account (${where}):`,
      `  Account SID: ${credentials.accountSid}`,
      `  Auth token:  ${credentials.authToken}`,
      `Console: ${url}/console (sign in with the Account SID and Auth token above)`,
      `Browsers: ${url}/client/conclave-voice.js signs in with Access Tokens at ${url.replace(/^http/, 'ws')}/client/v1${app.sipAddress() ? `; SIP over WebSocket at ${url.replace(/^http/, 'ws')}/sip` : ''}`,
      `Try: curl -u ${credentials.accountSid}:${credentials.authToken} ${url}/2010-04-01/Accounts/${credentials.accountSid}/Conferences.json`,
      '',
    ].join('\n'),
  );
  // A stop ends every call and closes everything within CONCLAVE_SHUTDOWN_TIMEOUT_MS (app.close);
  // a second signal while it runs exits at once.
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      app.logger.warn({ signal }, 'second signal while shutting down: exiting now');
      process.exit(1);
    }
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app.close().then(
      (clean) => {
        if (!clean) app.logger.warn({}, 'shut down, but not everything closed cleanly (see above)');
        process.exit(clean ? 0 : 1);
      },
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Only serve's flags (config.ts reads them); anything else is a usage error. */
function parseServeFlags(argv: string[]): void {
  try {
    parseArgs({ args: argv, options: { host: { type: 'string' }, port: { type: 'string' }, 'sip-port': { type: 'string' }, database: { type: 'string' } }, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, 'serve');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`conclave: ${error.message}\n`);
    process.exit(2);
  } else if (error instanceof ConfigError) {
    process.stderr.write(`conclave: ${error.message}\n`);
  } else {
    process.stderr.write(`conclave: could not start: ${(error as Error).message ?? String(error)}\n`);
  }
  process.exit(1);
});
