/**
 * The database as Kysely sees it: one row type per table, in the columns' own spelling
 * (snake_case, epoch-millisecond integers, booleans as 0/1). Only the store reads these types;
 * the mapping to the domain records of `domain/model.ts` lives in `store/row-mapping.ts`.
 *
 * Both engines share these types, so a column must read back as the same JS type from
 * SQLite and PostgreSQL: int8 columns are parsed as numbers by the PostgreSQL pool (see
 * `postgres/open-postgres-store.ts`), and booleans are integers everywhere, one code path.
 */
import type { Generated, Selectable } from 'kysely';
import type { CallDirection, CallStatus, HttpMethod } from '../domain/call.js';
import type { AccountStatus, BeepSetting, ConferenceEndReason, ConferenceStatus, ParticipantStatus } from '../domain/model.js';
import type { PauseBehavior, RecordingSource, RecordingStatus, RecordingTrack } from '../domain/recording.js';
import type { SipTables } from './sip-schema.js';

/** 0 or 1: SQLite has no boolean type, so both engines store integers. */
export type IntBool = 0 | 1;

/** Every table has `seq`, a number that only grows: the keyset for paging (domain/paging.ts). */
export interface SeqColumn {
  seq: Generated<number>;
}

export interface AccountsTable extends SeqColumn {
  sid: string;
  owner_account_sid: string;
  friendly_name: string;
  auth_token: string;
  status: AccountStatus;
  date_created: number;
  date_updated: number;
}

export interface ApiKeysTable extends SeqColumn {
  sid: string;
  account_sid: string;
  friendly_name: string;
  secret_hash: string;
  /** The secret sealed (AES-256-GCM), for Access Token signatures; null for keys older than 0012. */
  secret_sealed: string | null;
  date_created: number;
  date_updated: number;
}

export interface ConferencesTable extends SeqColumn {
  sid: string;
  account_sid: string;
  friendly_name: string;
  status: ConferenceStatus;
  region: string;
  max_participants: number;
  reason_conference_ended: ConferenceEndReason | null;
  call_sid_ending_conference: string | null;
  status_callback: string | null;
  status_callback_method: HttpMethod | null;
  /** Space-separated subscribed events. */
  status_callback_events: string | null;
  /** The node whose room is the conference's (several nodes); null on SQLite. */
  home_node_id: string | null;
  /** The last `SequenceNumber` given to one of its callbacks. */
  callback_sequence: Generated<number>;
  date_created: number;
  date_updated: number;
}

export interface ParticipantsTable extends SeqColumn {
  call_sid: string;
  conference_sid: string;
  account_sid: string;
  label: string | null;
  status: ParticipantStatus;
  muted: IntBool;
  hold: IntBool;
  coaching: IntBool;
  call_sid_to_coach: string | null;
  start_conference_on_enter: IntBool;
  end_conference_on_exit: IntBool;
  beep: BeepSetting;
  queue_time: number | null;
  /** 1 when the call goes on with TwiML once out of the conference (ParticipantCallStatus). */
  goes_on: IntBool;
  date_created: number;
  date_updated: number;
}

export interface CallsTable extends SeqColumn {
  sid: string;
  account_sid: string;
  parent_call_sid: string | null;
  to: string;
  from: string;
  phone_number_sid: string | null;
  status: CallStatus;
  direction: CallDirection;
  timeout: number;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  queue_time: number;
  url: string | null;
  method: HttpMethod;
  fallback_url: string | null;
  fallback_method: HttpMethod;
  twiml: string | null;
  status_callback: string | null;
  status_callback_method: HttpMethod;
  /** Space-separated `StatusCallbackEvent` values. */
  status_callback_events: string;
  /** The node that runs the call (its session and media); null for rows from before 0005. */
  node_id: string | null;
  date_created: number;
  date_updated: number;
}

export interface PhoneNumbersTable extends SeqColumn {
  sid: string;
  account_sid: string;
  phone_number: string;
  friendly_name: string;
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  status_callback: string | null;
  status_callback_method: HttpMethod;
  /** The application whose voice URLs answer the number's calls instead of its own (0011). */
  voice_application_sid: string | null;
  date_created: number;
  date_updated: number;
}

/** TwiML Applications (domain/application.ts). */
export interface ApplicationsTable extends SeqColumn {
  sid: string;
  account_sid: string;
  friendly_name: string;
  api_version: string;
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  status_callback: string | null;
  status_callback_method: HttpMethod;
  voice_caller_id_lookup: IntBool;
  sms_url: string | null;
  sms_method: HttpMethod;
  sms_fallback_url: string | null;
  sms_fallback_method: HttpMethod;
  sms_status_callback: string | null;
  message_status_callback: string | null;
  public_application_connect_enabled: IntBool;
  date_created: number;
  date_updated: number;
}

export type NodeState = 'live' | 'dead' | 'left';

export interface NodesTable {
  id: string;
  address: string;
  http_url: string | null;
  sip_address: string | null;
  started_at: number;
  lease_until: number;
  state: NodeState;
}

export type NodeCommandState = 'pending' | 'taken' | 'done' | 'failed';

export interface NodeCommandsTable extends SeqColumn {
  node_id: string;
  kind: string;
  payload: string;
  reply_to: string | null;
  state: NodeCommandState;
  result: string | null;
  created_at: number;
}

export interface ConferenceCallbacksTable extends SeqColumn {
  conference_sid: string;
  sequence_number: number;
  payload: string;
  created_at: number;
}

export interface RecordingsTable extends SeqColumn {
  sid: string;
  account_sid: string;
  call_sid: string | null;
  conference_sid: string | null;
  status: RecordingStatus;
  source: RecordingSource;
  channels: number;
  track: RecordingTrack;
  trim: IntBool;
  pause_behavior: PauseBehavior;
  start_time: number;
  duration: number | null;
  error_code: number | null;
  /** The status callback's URL, method and space-separated events; all null without one. */
  status_callback: string | null;
  status_callback_method: HttpMethod | null;
  status_callback_events: string | null;
  node_id: string | null;
  date_created: number;
  date_updated: number;
}

/** A secret the nodes share, by name (base64 of random bytes). */
export interface ClusterSecretsTable {
  name: string;
  value: string;
}

export interface Database extends SipTables {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  conferences: ConferencesTable;
  participants: ParticipantsTable;
  calls: CallsTable;
  phone_numbers: PhoneNumbersTable;
  nodes: NodesTable;
  node_commands: NodeCommandsTable;
  conference_callbacks: ConferenceCallbacksTable;
  recordings: RecordingsTable;
  cluster_secrets: ClusterSecretsTable;
  applications: ApplicationsTable;
}

export type AccountRow = Selectable<AccountsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ConferenceRow = Selectable<ConferencesTable>;
export type ParticipantRow = Selectable<ParticipantsTable>;

/** The two engines; the few places where their SQL differs branch on this. */
export type Dialect = 'sqlite' | 'postgres';
export type CallRow = Selectable<CallsTable>;
export type PhoneNumberRow = Selectable<PhoneNumbersTable>;
export type RecordingRow = Selectable<RecordingsTable>;
export type ApplicationRow = Selectable<ApplicationsTable>;
