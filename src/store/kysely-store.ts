/**
 * The one `Store` implementation, on a `Kysely<Database>`, shared by SQLite and PostgreSQL.
 * The engines differ only in how they are opened (sqlite/, postgres/) and in the few
 * statements that branch on `QueryContext.dialect`; the SQL itself lives in the per-resource
 * `*-queries.ts` modules, and the row <-> record mapping in `row-mapping.ts`.
 */
import type { Kysely } from 'kysely';
import type { Account, ApiKey, Conference, Participant } from '../domain/model.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { Call } from '../domain/call.js';
import type { PhoneNumber } from '../domain/phone-number.js';
import type { AccountFilter, CallFilter, ConferenceFilter, ParticipantFilter, PhoneNumberFilter, Store, StoreOperations } from '../domain/ports.js';
import * as calls from './calls-queries.js';
import * as accounts from './accounts-queries.js';
import * as conferences from './conferences-queries.js';
import * as participants from './participants-queries.js';
import type { ParticipantCache } from './participant-cache.js';
import type { QueryContext } from './query-context.js';
import type { Database, Dialect } from './schema.js';

/** Every operation, on the pool or, inside `transaction`, on the transaction's connection. */
export class KyselyStoreOperations implements StoreOperations {
  constructor(protected readonly ctx: QueryContext) {}

  insertAccount(account: Account): Promise<void> {
    return accounts.insertAccount(this.ctx, account);
  }
  findAccount(sid: string): Promise<Account | undefined> {
    return accounts.findAccount(this.ctx, sid);
  }
  updateAccount(account: Account): Promise<void> {
    return accounts.updateAccount(this.ctx, account);
  }
  listAccounts(filter: AccountFilter, page: PageRequest): Promise<PageResult<Account>> {
    return accounts.listAccounts(this.ctx, filter, page);
  }

  insertKey(key: ApiKey): Promise<void> {
    return accounts.insertKey(this.ctx, key);
  }
  findKey(sid: string): Promise<ApiKey | undefined> {
    return accounts.findKey(this.ctx, sid);
  }
  updateKey(key: ApiKey): Promise<void> {
    return accounts.updateKey(this.ctx, key);
  }
  deleteKey(sid: string): Promise<boolean> {
    return accounts.deleteKey(this.ctx, sid);
  }
  listKeys(accountSid: string, page: PageRequest): Promise<PageResult<ApiKey>> {
    return accounts.listKeys(this.ctx, accountSid, page);
  }

  insertConference(conference: Conference): Promise<void> {
    return conferences.insertConference(this.ctx, conference);
  }
  findConference(accountSid: string, sid: string): Promise<Conference | undefined> {
    return conferences.findConference(this.ctx, accountSid, sid);
  }
  findLiveConferenceByName(accountSid: string, friendlyName: string): Promise<Conference | undefined> {
    return conferences.findLiveConferenceByName(this.ctx, accountSid, friendlyName);
  }
  lockConference(sid: string): Promise<Conference | undefined> {
    return conferences.lockConference(this.ctx, sid);
  }
  updateConference(conference: Conference): Promise<void> {
    return conferences.updateConference(this.ctx, conference);
  }
  listConferences(filter: ConferenceFilter, page: PageRequest): Promise<PageResult<Conference>> {
    return conferences.listConferences(this.ctx, filter, page);
  }

  insertParticipant(participant: Participant): Promise<void> {
    return participants.insertParticipant(this.ctx, participant);
  }
  updateParticipant(participant: Participant): Promise<void> {
    return participants.updateParticipant(this.ctx, participant);
  }
  deleteParticipant(conferenceSid: string, callSid: string): Promise<void> {
    return participants.deleteParticipant(this.ctx, conferenceSid, callSid);
  }
  findParticipant(conferenceSid: string, callSidOrLabel: string): Promise<Participant | undefined> {
    return participants.findParticipant(this.ctx, conferenceSid, callSidOrLabel);
  }
  findParticipantByCall(callSid: string): Promise<Participant | undefined> {
    return participants.findParticipantByCall(this.ctx, callSid);
  }
  listAllParticipants(conferenceSid: string): Promise<Participant[]> {
    return participants.listAllParticipants(this.ctx, conferenceSid);
  }
  listParticipants(filter: ParticipantFilter, page: PageRequest): Promise<PageResult<Participant>> {
    return participants.listParticipants(this.ctx, filter, page);
  }

  insertCall(call: Call): Promise<void> {
    return calls.insertCall(this.ctx, call);
  }
  findCall(sid: string, accountSid?: string): Promise<Call | undefined> {
    return calls.findCall(this.ctx, sid, accountSid);
  }
  updateCall(call: Call): Promise<void> {
    return calls.updateCall(this.ctx, call);
  }
  deleteCall(sid: string): Promise<boolean> {
    return calls.deleteCall(this.ctx, sid);
  }
  listCalls(filter: CallFilter, page: PageRequest): Promise<PageResult<Call>> {
    return calls.listCalls(this.ctx, filter, page);
  }

  listLiveCalls(limit: number): Promise<Call[]> {
    return calls.listLiveCalls(this.ctx, limit);
  }

  insertPhoneNumber(number: PhoneNumber): Promise<void> {
    return calls.insertPhoneNumber(this.ctx, number);
  }
  findPhoneNumber(accountSid: string, sid: string): Promise<PhoneNumber | undefined> {
    return calls.findPhoneNumber(this.ctx, accountSid, sid);
  }
  findPhoneNumberByNumber(phoneNumber: string): Promise<PhoneNumber | undefined> {
    return calls.findPhoneNumberByNumber(this.ctx, phoneNumber);
  }
  updatePhoneNumber(number: PhoneNumber): Promise<void> {
    return calls.updatePhoneNumber(this.ctx, number);
  }
  deletePhoneNumber(sid: string): Promise<boolean> {
    return calls.deletePhoneNumber(this.ctx, sid);
  }
  listPhoneNumbers(filter: PhoneNumberFilter, page: PageRequest): Promise<PageResult<PhoneNumber>> {
    return calls.listPhoneNumbers(this.ctx, filter, page);
  }
}

export class KyselyStore extends KyselyStoreOperations implements Store {
  readonly kind: Dialect;

  constructor(
    db: Kysely<Database>,
    dialect: Dialect,
    cache?: ParticipantCache,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    super({ db, dialect, ...(cache ? { participants: cache } : {}) });
    this.kind = dialect;
  }

  /**
   * Kysely commits when `work` resolves and rolls back when it throws. On SQLite the
   * transaction holds the store's only connection: calling the store itself (rather than
   * `tx`) from inside `work` would wait for ever.
   */
  transaction<T>(work: (tx: StoreOperations) => Promise<T>): Promise<T> {
    const { dialect, participants: cache } = this.ctx;
    return this.ctx.db
      .transaction()
      .execute((trx) => work(new KyselyStoreOperations({ db: trx, dialect, inTransaction: true, ...(cache ? { participants: cache } : {}) })));
  }

  async close(): Promise<void> {
    await this.onClose();
    await this.ctx.db.destroy();
  }
}
