/**
 * `conclave join`: puts a participant into a conference through the service layer, on the
 * store the server uses — the way to try the participant API from a shell before calls exist
 * (the next issue brings `<Dial><Conference>` and simulated endpoints). Prints the conference
 * SID and the participant's CallSid.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { joinConference } from '../services/join-conference.js';
import { resolveOwnerCredentials } from './owner-credentials.js';
import { UsageError } from './usage-error.js';

export const JOIN_USAGE =
  'usage: conclave join --conference NAME [--label LABEL] [--muted] [--hold] [--end-conference-on-exit] [--no-start-conference-on-enter] [--database PATH_OR_URL]';

export interface JoinFlags {
  conference: string;
  label?: string;
  muted: boolean;
  hold: boolean;
  endConferenceOnExit: boolean;
  startConferenceOnEnter: boolean;
  /** Flags for loadConfig (`--database`). */
  configArgs: string[];
}

export function parseJoinFlags(argv: string[]): JoinFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        conference: { type: 'string' },
        label: { type: 'string' },
        muted: { type: 'boolean', default: false },
        hold: { type: 'boolean', default: false },
        'end-conference-on-exit': { type: 'boolean', default: false },
        'no-start-conference-on-enter': { type: 'boolean', default: false },
        database: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, 'join');
  }
  if (!values.conference) throw new UsageError('--conference is required', 'join');
  return {
    conference: values.conference,
    ...(values.label ? { label: values.label } : {}),
    muted: values.muted,
    hold: values.hold,
    endConferenceOnExit: values['end-conference-on-exit'],
    startConferenceOnEnter: !values['no-start-conference-on-enter'],
    configArgs: values.database ? ['--database', values.database] : [],
  };
}

export async function runJoin(config: Config, flags: JoinFlags): Promise<string> {
  const credentials = resolveOwnerCredentials(config);
  const app = await createApp(config, credentials, { logger: pino({ level: 'silent' }) });
  try {
    const { conference, participant } = await joinConference(app.services, {
      accountSid: credentials.accountSid,
      friendlyName: flags.conference,
      label: flags.label ?? null,
      muted: flags.muted,
      hold: flags.hold,
      endConferenceOnExit: flags.endConferenceOnExit,
      startConferenceOnEnter: flags.startConferenceOnEnter,
    });
    return `ConferenceSid ${conference.sid} (${conference.status})\nCallSid ${participant.callSid}\n`;
  } finally {
    await app.close();
  }
}
