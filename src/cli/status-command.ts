/**
 * `conclave status`: what a running server has live, through its REST API as any client would
 * see it — the live conferences (started, or waiting to start: `init`) with their participants, and how many calls are queued,
 * ringing and in progress (lists of up to 1,000 each; more shows as "1000+").
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { serverApi, type ServerApi } from './server-api.js';
import { UsageError } from './usage-error.js';

export const STATUS_USAGE = 'usage: conclave status [--host HOST] [--port PORT] [--database PATH_OR_URL]';

export const STATUS_HELP = [
  STATUS_USAGE,
  '',
  'Prints the live conferences of a running Conclave, their participants, and its live calls.',
  'The server is found as "conclave serve" was told: --host/--port, else CONCLAVE_HTTP_HOST and',
  'CONCLAVE_HTTP_PORT (default 127.0.0.1:8080). It signs in as the owner account:',
  'CONCLAVE_ACCOUNT_SID and CONCLAVE_AUTH_TOKEN, else the credentials file beside the database',
  '(--database or CONCLAVE_DATABASE; CONCLAVE_CREDENTIALS_FILE).',
].join('\n');

const PAGE = 1000;

interface ConferenceJson {
  sid: string;
  friendly_name: string;
  status: 'init' | 'in-progress' | 'completed';
  date_created: string;
}
interface ParticipantJson {
  call_sid: string;
  label: string | null;
  status: string;
  muted: boolean;
  hold: boolean;
  coaching: boolean;
}
interface CallJson {
  sid: string;
}

export function parseStatusFlags(argv: string[]): { configArgs: string[] } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { host: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } }, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message, 'status');
  }
  return { configArgs: (['host', 'port', 'database'] as const).flatMap((name) => (values[name] ? [`--${name}`, values[name]] : [])) };
}

export async function runStatus(config: Config, now: Date = new Date()): Promise<string> {
  const api = serverApi(config);
  const [waiting, started, queued, ringing, inProgress] = await Promise.all([
    liveConferences(api, 'init'),
    liveConferences(api, 'in-progress'),
    countCalls(api, 'queued'),
    countCalls(api, 'ringing'),
    countCalls(api, 'in-progress'),
  ]);
  const conferences = [...started, ...waiting];
  const participants = await Promise.all(
    conferences.map((conference) => api.request<{ participants: ParticipantJson[] }>('GET', `/Conferences/${conference.sid}/Participants.json?PageSize=${PAGE}`).then((page) => page.participants)),
  );
  const lines = [
    `Conclave at ${api.baseUrl}, account ${api.accountSid}`,
    `Live calls: ${inProgress} in progress, ${ringing} ringing, ${queued} queued`,
    conferences.length === 0 ? 'No live conference.' : `Live conferences: ${conferences.length}`,
  ];
  conferences.forEach((conference, i) => {
    const people = participants[i]!;
    const state = conference.status === 'init' ? 'waiting to start' : `up ${since(conference.date_created, now)}`;
    lines.push(`  ${conference.friendly_name}  ${conference.sid}  ${people.length} participant${people.length === 1 ? '' : 's'}, ${state}`);
    for (const p of people) {
      const flags = [p.muted && 'muted', p.hold && 'on hold', p.coaching && 'coaching', p.status !== 'connected' && p.status].filter(Boolean);
      lines.push(`    ${p.call_sid}${p.label ? `  ${p.label}` : ''}${flags.length > 0 ? `  (${flags.join(', ')})` : ''}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

function liveConferences(api: ServerApi, status: 'init' | 'in-progress'): Promise<ConferenceJson[]> {
  return api.request<{ conferences: ConferenceJson[] }>('GET', `/Conferences.json?Status=${status}&PageSize=${PAGE}`).then((page) => page.conferences);
}

async function countCalls(api: ServerApi, status: string): Promise<string> {
  const { calls } = await api.request<{ calls: CallJson[] }>('GET', `/Calls.json?Status=${status}&PageSize=${PAGE}`);
  return calls.length >= PAGE ? `${PAGE}+` : String(calls.length);
}

/** `3m 05s` since an RFC 2822 date (Twilio's date_created). */
function since(rfc2822: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(rfc2822)) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${s}s`;
}
