/**
 * What `conclave --help`, `conclave <command> --help` and `conclave --version` print. The
 * first line of the general help is serve's usage (scripts read it).
 */
import { readFileSync } from 'node:fs';
import { CALL_HELP, CALL_USAGE } from './call-command.js';
import { JOIN_USAGE } from './join-command.js';
import { STATUS_HELP, STATUS_USAGE } from './status-command.js';

export const SERVE_USAGE = 'usage: conclave serve [--host HOST] [--port PORT] [--sip-port PORT] [--database PATH_OR_URL]';

const SERVE_HELP = [
  SERVE_USAGE,
  '',
  'Runs Conclave: the REST API (default 127.0.0.1:8080), SIP on UDP and TCP (default 5060) and',
  'the media plane, with its store (SQLite file ./data/conclave.db by default, or a',
  'postgres:// URL). Every setting is an environment variable (CONCLAVE_*, see README); the',
  'flags override CONCLAVE_HTTP_HOST, CONCLAVE_HTTP_PORT, CONCLAVE_SIP_PORT and CONCLAVE_DATABASE.',
  'Logs are JSON lines on stdout (CONCLAVE_LOG_LEVEL: info by default; debug, trace);',
  'CONCLAVE_SIP_TRACE=true logs every SIP message at info.',
].join('\n');

const JOIN_HELP = [
  JOIN_USAGE,
  '',
  'Puts a participant (no phone behind it) into conference NAME of the owner account, on the',
  'store the server uses, and prints the conference SID and the participant\'s CallSid.',
].join('\n');

export const COMMAND_HELP: Record<string, string> = { serve: SERVE_HELP, status: STATUS_HELP, call: CALL_HELP, join: JOIN_HELP };

export const GENERAL_HELP = [
  SERVE_USAGE,
  `       ${STATUS_USAGE.replace('usage: ', '')}`,
  `       ${CALL_USAGE.replace('usage: ', '')}`,
  `       ${JOIN_USAGE.replace('usage: ', '')}`,
  '       conclave --version',
  '',
  'Commands:',
  '  serve   run the server (the default command)',
  '  status  the live conferences, participants and calls of a running server',
  '  call    a simulated phone calls one of your numbers on a running server',
  '  join    put a participant into a conference (no phone needed)',
  '',
  'conclave <command> --help says more about one.',
].join('\n');

/** The version in Conclave's package.json (beside src/ when run from source, two up from dist/src/). */
export function conclaveVersion(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'conclave' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}
