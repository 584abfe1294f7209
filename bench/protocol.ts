/**
 * The messages the bench process and its two server processes exchange over the fork IPC
 * channel, and the endpoints being measured. Each server runs in its own process so the
 * load generator (autocannon, in the bench process) never shares an event loop with it.
 */

/** How many participants the measured conference holds (Twilio's and Conclave's maximum). */
export const PARTICIPANTS = 250;

export type StoreKind = 'sqlite' | 'postgres';

/** Sent by `server-under-test.ts` once the conference is full and the app listens. */
export interface ConclaveReady {
  type: 'ready';
  baseUrl: string;
  accountSid: string;
  authToken: string;
  conferenceSid: string;
  /** The participant the fetch endpoints read (one in the middle of the conference). */
  callSid: string;
  /** A human description of the store, e.g. `SQLite file /tmp/…/conclave.sqlite`. */
  store: string;
}

/** One fixed response the bare server sends: same bytes and content type as ours. */
export interface BareRoute {
  path: string;
  contentType: string;
  body: string;
}

/** Sent by the bench process to the bare server before it listens. */
export interface BareConfigure {
  type: 'configure';
  routes: BareRoute[];
}

/** Sent by `bare-server.ts` once it listens. */
export interface BareReady {
  type: 'ready';
  baseUrl: string;
}

/** Sent by the bench process to either server: close, clean up, exit. */
export interface Stop {
  type: 'stop';
}

export interface Target {
  /** Short name used in the table and in the bare route's path. */
  name: string;
  /** What it is, for the table. */
  label: string;
  /** Path and query on Conclave, built from the conference the server reported. */
  path(ready: ConclaveReady): string;
  /** Whether the 0.5 goal of the issue applies (fetch endpoints). */
  goal: boolean;
}

const participantsPath = (r: ConclaveReady): string => `/2010-04-01/Accounts/${r.accountSid}/Conferences/${r.conferenceSid}/Participants`;

export const TARGETS: readonly Target[] = [
  { name: 'fetch-json', label: 'fetch participant .json', goal: true, path: (r) => `${participantsPath(r)}/${r.callSid}.json` },
  { name: 'fetch-xml', label: 'fetch participant XML', goal: true, path: (r) => `${participantsPath(r)}/${r.callSid}` },
  { name: 'list-50', label: 'list .json PageSize=50', goal: false, path: (r) => `${participantsPath(r)}.json?PageSize=50` },
  { name: 'list-1000', label: 'list .json PageSize=1000', goal: false, path: (r) => `${participantsPath(r)}.json?PageSize=1000` },
];

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}
