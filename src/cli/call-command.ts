/**
 * `conclave call`: a simulated phone calls one of the owner account's numbers, through the
 * running server's API (the call lives in the server, so the server must place it). Prints
 * the new call's SID and status.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { ServerRefusal, serverApi } from './server-api.js';
import { UsageError } from './usage-error.js';

export const CALL_USAGE = 'usage: conclave call --from sim:NAME --to +E164NUMBER [--host HOST] [--port PORT] [--database PATH_OR_URL]';

export const CALL_HELP = [
  CALL_USAGE,
  '',
  'A simulated phone (sim:NAME, e.g. sim:alice;tone=440) calls one of the owner account\'s',
  'numbers on the running server, which fetches the number\'s VoiceUrl. Prints the CallSid.',
  'The server is found as "conclave status" finds it (see conclave status --help).',
].join('\n');

export interface CallFlags {
  from: string;
  to: string;
  configArgs: string[];
}

export function parseCallFlags(argv: string[]): CallFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { from: { type: 'string' }, to: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, 'call');
  }
  if (!values.from || !values.to) throw new UsageError('--from and --to are required', 'call');
  const configArgs = (['host', 'port', 'database'] as const).flatMap((name) => (values[name] ? [`--${name}`, values[name]] : []));
  return { from: values.from, to: values.to, configArgs };
}

export async function runCall(config: Config, flags: CallFlags): Promise<string> {
  let body: { sid?: string; status?: string };
  try {
    body = await serverApi(config).request('POST', '/SimulatedCalls.json', { From: flags.from, To: flags.to });
  } catch (error) {
    if (error instanceof ServerRefusal) throw new ConfigError(`the call was refused (${error.status}): ${error.detail}`);
    throw error;
  }
  return `CallSid ${body.sid ?? '?'} (${body.status ?? '?'})\n`;
}
