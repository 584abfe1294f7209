/**
 * What the domain and the services need from the outside, as interfaces. `store/sqlite` and
 * `store/postgres` implement `Store`; one contract test suite (test/store) runs against both.
 */
import type { Call, CallStatus } from './call.js';
import type { Account, AccountStatus, ApiKey, Conference, ConferenceStatus, Participant } from './model.js';
import type { PhoneNumber } from './phone-number.js';
import type { PageRequest, PageResult } from './paging.js';

export interface AccountFilter {
  /** Accounts owned by this account, the owner itself included. */
  ownerAccountSid: string;
  friendlyName?: string;
  status?: AccountStatus;
}

/** Dates as epoch milliseconds; `from` inclusive, `to` exclusive. */
export interface TimeRange {
  from?: number;
  to?: number;
}

export interface ConferenceFilter {
  accountSid: string;
  status?: ConferenceStatus;
  friendlyName?: string;
  dateCreated?: TimeRange;
  dateUpdated?: TimeRange;
}

export interface ParticipantFilter {
  conferenceSid: string;
  muted?: boolean;
  hold?: boolean;
  coaching?: boolean;
}

export interface CallFilter {
  accountSid: string;
  to?: string;
  from?: string;
  status?: CallStatus;
  parentCallSid?: string;
  /** On `startTime`; calls that never started do not match a range. */
  startTime?: TimeRange;
  endTime?: TimeRange;
}

export interface PhoneNumberFilter {
  accountSid: string;
  phoneNumber?: string;
  friendlyName?: string;
}

/** Every store operation; inside `transaction` the same operations run in one transaction. */
export interface StoreOperations {
  insertAccount(account: Account): Promise<void>;
  findAccount(sid: string): Promise<Account | undefined>;
  updateAccount(account: Account): Promise<void>;
  /** Owner first, then its subaccounts, oldest first. */
  listAccounts(filter: AccountFilter, page: PageRequest): Promise<PageResult<Account>>;

  insertKey(key: ApiKey): Promise<void>;
  findKey(sid: string): Promise<ApiKey | undefined>;
  updateKey(key: ApiKey): Promise<void>;
  deleteKey(sid: string): Promise<boolean>;
  /** Oldest first. */
  listKeys(accountSid: string, page: PageRequest): Promise<PageResult<ApiKey>>;

  /** Throws ConflictError if a non-completed conference of that name exists in the account. */
  insertConference(conference: Conference): Promise<void>;
  findConference(accountSid: string, sid: string): Promise<Conference | undefined>;
  /** The one conference of that name that has not completed, if any. */
  findLiveConferenceByName(accountSid: string, friendlyName: string): Promise<Conference | undefined>;
  /**
   * Reads the conference and takes a lock on it until the transaction ends (PostgreSQL
   * `SELECT … FOR UPDATE`; SQLite transactions are already serialised). Use inside `transaction`.
   */
  lockConference(sid: string): Promise<Conference | undefined>;
  updateConference(conference: Conference): Promise<void>;
  /** Newest first, as Twilio lists conferences. */
  listConferences(filter: ConferenceFilter, page: PageRequest): Promise<PageResult<Conference>>;

  /** Throws ConflictError on a duplicate call SID, or a label already used in that conference. */
  insertParticipant(participant: Participant): Promise<void>;
  updateParticipant(participant: Participant): Promise<void>;
  deleteParticipant(conferenceSid: string, callSid: string): Promise<void>;
  /** By call SID or, failing that, by label. */
  findParticipant(conferenceSid: string, callSidOrLabel: string): Promise<Participant | undefined>;
  /** The participant a call is, in whichever conference. */
  findParticipantByCall(callSid: string): Promise<Participant | undefined>;
  /** Every participant of the conference, in the order they joined. */
  listAllParticipants(conferenceSid: string): Promise<Participant[]>;
  /** In the order they joined. */
  listParticipants(filter: ParticipantFilter, page: PageRequest): Promise<PageResult<Participant>>;

  insertCall(call: Call): Promise<void>;
  /** Any account's call when `accountSid` is undefined (the call engine); else only that account's. */
  findCall(sid: string, accountSid?: string): Promise<Call | undefined>;
  updateCall(call: Call): Promise<void>;
  /** Deletes the call's record; false when there was none. */
  deleteCall(sid: string): Promise<boolean>;
  /** Newest first. */
  listCalls(filter: CallFilter, page: PageRequest): Promise<PageResult<Call>>;
  /** Up to `limit` calls of any account still queued, ringing or in progress (start-up sweep). */
  listLiveCalls(limit: number): Promise<Call[]>;

  /** Throws ConflictError (`sid`) when the number is already registered. */
  insertPhoneNumber(number: PhoneNumber): Promise<void>;
  findPhoneNumber(accountSid: string, sid: string): Promise<PhoneNumber | undefined>;
  /** Routing of inbound calls: whichever account owns the number. */
  findPhoneNumberByNumber(phoneNumber: string): Promise<PhoneNumber | undefined>;
  updatePhoneNumber(number: PhoneNumber): Promise<void>;
  deletePhoneNumber(sid: string): Promise<boolean>;
  /** Oldest first. */
  listPhoneNumbers(filter: PhoneNumberFilter, page: PageRequest): Promise<PageResult<PhoneNumber>>;
}

export interface Store extends StoreOperations {
  /** Which engine, for the start-up banner and logs: `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `work` in one transaction; it commits when `work` resolves, rolls back when it throws. */
  transaction<T>(work: (tx: StoreOperations) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The time, injected so that tests and rules do not read the clock themselves. */
export interface Clock {
  now(): number;
}
