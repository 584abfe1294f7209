/**
 * `conclave call`: a simulated phone calls one of the owner account's numbers, through the
 * running server's API (the call lives in the server, so the server must place it). Prints
 * the new call's SID and status.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { resolveOwnerCredentials } from './owner-credentials.js';

export const CALL_USAGE = 'usage: conclave call --from sim:NAME --to +E164NUMBER [--host HOST] [--port PORT]';

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
    throw new ConfigError(`${(error as Error).message}; ${CALL_USAGE}`);
  }
  if (!values.from || !values.to) throw new ConfigError(`--from and --to are required; ${CALL_USAGE}`);
  const configArgs = (['host', 'port', 'database'] as const).flatMap((name) => (values[name] ? [`--${name}`, values[name]] : []));
  return { from: values.from, to: values.to, configArgs };
}

export async function runCall(config: Config, flags: CallFlags): Promise<string> {
  const { accountSid, authToken } = resolveOwnerCredentials(config);
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const url = `http://${host}:${config.http.port}/2010-04-01/Accounts/${accountSid}/SimulatedCalls.json`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ From: flags.from, To: flags.to }).toString(),
    });
  } catch (error) {
    throw new ConfigError(`no Conclave answers at ${url} (${(error as Error).message}); start it with "npm start", or give --host and --port`);
  }
  const text = await response.text();
  let body: { sid?: string; status?: string; message?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ConfigError(`${url} answered ${response.status} with no Twilio JSON; is Conclave the server on that port?`);
  }
  if (!response.ok) throw new ConfigError(`the call was refused (${response.status}): ${body.message ?? text}`);
  return `CallSid ${body.sid ?? '?'} (${body.status ?? '?'})\n`;
}
