/**
 * The one `Store` implementation, on a `Kysely<Database>`, shared by SQLite and PostgreSQL.
 * The engines differ only in how they are opened (sqlite/, postgres/) and in the few
 * statements that branch on `QueryContext.dialect`; the SQL itself lives in the per-resource
 * `*-queries.ts` modules, and the row <-> record mapping in `row-mapping.ts`.
 */
import { sql, type Kysely } from 'kysely';
import type { Account, ApiKey, Conference, Participant } from '../domain/model.js';
import type { Application, ApplicationFilter } from '../domain/application.js';
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { Call } from '../domain/call.js';
import type { PhoneNumber } from '../domain/phone-number.js';
import type { AccountFilter, CallFilter, ConferenceFilter, ParticipantFilter, PhoneNumberFilter, PoolFigures, QueryListener, RecordingFilter, Store, StoreOperations } from '../domain/ports.js';
import type { Recording } from '../domain/recording.js';
import type { SipCredential, SipCredentialList } from '../domain/sip-credential.js';
import type { SipCredentialPurpose, SipDomain, SipDomainAuth, SipListMapping } from '../domain/sip-domain.js';
import type { SipIpAccessControlList, SipIpAddress } from '../domain/sip-ip-access.js';
import type { SipRegistration } from '../domain/sip-registration.js';
import type { ClusterChannel, ClusterMessage, CommandReply, NodeCommand, NodeRecord, NodeRegistration, QueuedConferenceCallback } from '../domain/cluster.js';
import * as calls from './calls-queries.js';
import * as accounts from './accounts-queries.js';
import * as applications from './applications-queries.js';
import * as conferences from './conferences-queries.js';
import * as participants from './participants-queries.js';
import * as nodes from './nodes-queries.js';
import { clusterSecret } from './cluster-secrets-queries.js';
import * as commands from './node-commands-queries.js';
import * as callbacks from './conference-callbacks-queries.js';
import * as recordings from './recordings-queries.js';
import * as sipDomains from './sip-domains-queries.js';
import * as sipLists from './sip-lists-queries.js';
import * as sipEntries from './sip-entries-queries.js';
import * as sipMappings from './sip-mappings-queries.js';
import * as sipRegistrations from './sip-registrations-queries.js';
import type { ParticipantCache } from './participant-cache.js';
import type { QueryTimings } from './query-timings.js';
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
  updateCall(call: Call): Promise<boolean> {
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

  insertRecording(recording: Recording): Promise<void> {
    return recordings.insertRecording(this.ctx, recording);
  }
  findRecording(sid: string, accountSid?: string): Promise<Recording | undefined> {
    return recordings.findRecording(this.ctx, sid, accountSid);
  }
  updateRecording(recording: Recording): Promise<boolean> {
    return recordings.updateRecording(this.ctx, recording);
  }
  deleteRecording(sid: string): Promise<boolean> {
    return recordings.deleteRecording(this.ctx, sid);
  }
  listRecordings(filter: RecordingFilter, page: PageRequest): Promise<PageResult<Recording>> {
    return recordings.listRecordings(this.ctx, filter, page);
  }
  listLiveRecordings(limit: number): Promise<Recording[]> {
    return recordings.listLiveRecordings(this.ctx, limit);
  }
  listRecordingsCreatedBefore(before: number, limit: number): Promise<Recording[]> {
    return recordings.listRecordingsCreatedBefore(this.ctx, before, limit);
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

  insertApplication(application: Application): Promise<void> {
    return applications.insertApplication(this.ctx, application);
  }
  findApplication(sid: string): Promise<Application | undefined> {
    return applications.findApplication(this.ctx, sid);
  }
  updateApplication(application: Application): Promise<void> {
    return applications.updateApplication(this.ctx, application);
  }
  deleteApplication(sid: string): Promise<boolean> {
    return applications.deleteApplication(this.ctx, sid);
  }
  listApplications(accountSid: string, page: PageRequest, filter?: ApplicationFilter): Promise<PageResult<Application>> {
    return applications.listApplications(this.ctx, accountSid, page, filter);
  }

  insertSipDomain(domain: SipDomain): Promise<void> {
    return sipDomains.insertSipDomain(this.ctx, domain);
  }
  findSipDomain(accountSid: string, sid: string): Promise<SipDomain | undefined> {
    return sipDomains.findSipDomain(this.ctx, accountSid, sid);
  }
  findSipDomainByName(domainName: string): Promise<SipDomain | undefined> {
    return sipDomains.findSipDomainByName(this.ctx, domainName);
  }
  updateSipDomain(domain: SipDomain): Promise<void> {
    return sipDomains.updateSipDomain(this.ctx, domain);
  }
  deleteSipDomain(sid: string): Promise<boolean> {
    return sipDomains.deleteSipDomain(this.ctx, sid);
  }
  listSipDomains(accountSid: string, page: PageRequest): Promise<PageResult<SipDomain>> {
    return sipDomains.listSipDomains(this.ctx, accountSid, page);
  }
  findSipDomainAuth(domainSids: readonly string[]): Promise<Map<string, SipDomainAuth>> {
    return sipDomains.findSipDomainAuth(this.ctx, domainSids);
  }

  insertSipCredentialList(list: SipCredentialList): Promise<void> {
    return sipLists.insertSipList(this.ctx, 'sip_credential_lists', list);
  }
  findSipCredentialList(accountSid: string, sid: string): Promise<SipCredentialList | undefined> {
    return sipLists.findSipList(this.ctx, 'sip_credential_lists', accountSid, sid);
  }
  updateSipCredentialList(list: SipCredentialList): Promise<void> {
    return sipLists.updateSipList(this.ctx, 'sip_credential_lists', list);
  }
  deleteSipCredentialList(sid: string): Promise<boolean> {
    return sipLists.deleteSipList(this.ctx, 'sip_credential_lists', sid);
  }
  listSipCredentialLists(accountSid: string, page: PageRequest): Promise<PageResult<SipCredentialList>> {
    return sipLists.listSipLists(this.ctx, 'sip_credential_lists', accountSid, page);
  }

  insertSipCredential(credential: SipCredential): Promise<void> {
    return sipEntries.insertSipCredential(this.ctx, credential);
  }
  findSipCredential(credentialListSid: string, sid: string): Promise<SipCredential | undefined> {
    return sipEntries.findSipCredential(this.ctx, credentialListSid, sid);
  }
  updateSipCredential(credential: SipCredential): Promise<void> {
    return sipEntries.updateSipCredential(this.ctx, credential);
  }
  deleteSipCredential(sid: string): Promise<boolean> {
    return sipEntries.deleteSipCredential(this.ctx, sid);
  }
  listSipCredentials(credentialListSid: string, page: PageRequest): Promise<PageResult<SipCredential>> {
    return sipEntries.listSipCredentials(this.ctx, credentialListSid, page);
  }
  findSipDomainCredentials(domainSid: string, purpose: SipCredentialPurpose, username: string): Promise<SipCredential[]> {
    return sipEntries.findSipDomainCredentials(this.ctx, domainSid, purpose, username);
  }

  insertSipIpAccessControlList(list: SipIpAccessControlList): Promise<void> {
    return sipLists.insertSipList(this.ctx, 'sip_ip_access_control_lists', list);
  }
  findSipIpAccessControlList(accountSid: string, sid: string): Promise<SipIpAccessControlList | undefined> {
    return sipLists.findSipList(this.ctx, 'sip_ip_access_control_lists', accountSid, sid);
  }
  updateSipIpAccessControlList(list: SipIpAccessControlList): Promise<void> {
    return sipLists.updateSipList(this.ctx, 'sip_ip_access_control_lists', list);
  }
  deleteSipIpAccessControlList(sid: string): Promise<boolean> {
    return sipLists.deleteSipList(this.ctx, 'sip_ip_access_control_lists', sid);
  }
  listSipIpAccessControlLists(accountSid: string, page: PageRequest): Promise<PageResult<SipIpAccessControlList>> {
    return sipLists.listSipLists(this.ctx, 'sip_ip_access_control_lists', accountSid, page);
  }

  insertSipIpAddress(address: SipIpAddress): Promise<void> {
    return sipEntries.insertSipIpAddress(this.ctx, address);
  }
  findSipIpAddress(ipAccessControlListSid: string, sid: string): Promise<SipIpAddress | undefined> {
    return sipEntries.findSipIpAddress(this.ctx, ipAccessControlListSid, sid);
  }
  updateSipIpAddress(address: SipIpAddress): Promise<void> {
    return sipEntries.updateSipIpAddress(this.ctx, address);
  }
  deleteSipIpAddress(sid: string): Promise<boolean> {
    return sipEntries.deleteSipIpAddress(this.ctx, sid);
  }
  listSipIpAddresses(ipAccessControlListSid: string, page: PageRequest): Promise<PageResult<SipIpAddress>> {
    return sipEntries.listSipIpAddresses(this.ctx, ipAccessControlListSid, page);
  }
  listSipDomainIpAddresses(domainSid: string): Promise<SipIpAddress[]> {
    return sipEntries.listSipDomainIpAddresses(this.ctx, domainSid);
  }

  insertSipCredentialListMapping(purpose: SipCredentialPurpose, mapping: SipListMapping): Promise<void> {
    return sipMappings.insertSipCredentialListMapping(this.ctx, purpose, mapping);
  }
  findSipCredentialListMapping(purpose: SipCredentialPurpose, domainSid: string, credentialListSid: string): Promise<SipListMapping | undefined> {
    return sipMappings.findSipCredentialListMapping(this.ctx, purpose, domainSid, credentialListSid);
  }
  deleteSipCredentialListMapping(purpose: SipCredentialPurpose, domainSid: string, credentialListSid: string): Promise<boolean> {
    return sipMappings.deleteSipCredentialListMapping(this.ctx, purpose, domainSid, credentialListSid);
  }
  listSipCredentialListMappings(purpose: SipCredentialPurpose, domainSid: string, page: PageRequest): Promise<PageResult<SipListMapping>> {
    return sipMappings.listSipCredentialListMappings(this.ctx, purpose, domainSid, page);
  }

  insertSipIpAccessControlListMapping(mapping: SipListMapping): Promise<void> {
    return sipMappings.insertSipIpAccessControlListMapping(this.ctx, mapping);
  }
  findSipIpAccessControlListMapping(domainSid: string, ipAccessControlListSid: string): Promise<SipListMapping | undefined> {
    return sipMappings.findSipIpAccessControlListMapping(this.ctx, domainSid, ipAccessControlListSid);
  }
  deleteSipIpAccessControlListMapping(domainSid: string, ipAccessControlListSid: string): Promise<boolean> {
    return sipMappings.deleteSipIpAccessControlListMapping(this.ctx, domainSid, ipAccessControlListSid);
  }
  listSipIpAccessControlListMappings(domainSid: string, page: PageRequest): Promise<PageResult<SipListMapping>> {
    return sipMappings.listSipIpAccessControlListMappings(this.ctx, domainSid, page);
  }

  saveSipRegistration(registration: SipRegistration): Promise<void> {
    return sipRegistrations.saveSipRegistration(this.ctx, registration);
  }
  listSipRegistrations(domainSid: string, username: string, now: number): Promise<SipRegistration[]> {
    return sipRegistrations.listSipRegistrations(this.ctx, domainSid, username, now);
  }
  deleteSipRegistrations(domainSid: string, username: string, contacts?: readonly string[]): Promise<number> {
    return sipRegistrations.deleteSipRegistrations(this.ctx, domainSid, username, contacts);
  }
  deleteExpiredSipRegistrations(now: number): Promise<number> {
    return sipRegistrations.deleteExpiredSipRegistrations(this.ctx, now);
  }

  registerNode(node: NodeRegistration): Promise<void> {
    return nodes.registerNode(this.ctx, node);
  }
  renewNode(id: string, leaseMs: number): Promise<boolean> {
    return nodes.renewNode(this.ctx, id, leaseMs);
  }
  listExpiredNodes(): Promise<NodeRecord[]> {
    return nodes.listExpiredNodes(this.ctx);
  }
  declareNodeDead(id: string): Promise<boolean> {
    return nodes.declareNodeDead(this.ctx, id);
  }
  markNodeLeft(id: string): Promise<void> {
    return nodes.markNodeLeft(this.ctx, id);
  }
  findNode(id: string): Promise<NodeRecord | undefined> {
    return nodes.findNode(this.ctx, id);
  }
  listLiveNodes(): Promise<NodeRecord[]> {
    return nodes.listLiveNodes(this.ctx);
  }
  forgetNodes(olderThanMs: number): Promise<number> {
    return nodes.forgetNodes(this.ctx, olderThanMs);
  }
  listGoneNodesWithLeftovers(): Promise<string[]> {
    return nodes.listGoneNodesWithLeftovers(this.ctx);
  }

  listLiveCallsOfNode(nodeId: string, limit: number): Promise<Call[]> {
    return nodes.listLiveCallsOfNode(this.ctx, nodeId, limit);
  }
  listConferencesHomedAt(nodeId: string, limit: number): Promise<Conference[]> {
    return nodes.listConferencesHomedAt(this.ctx, nodeId, limit);
  }
  listNodesInConference(conferenceSid: string): Promise<string[]> {
    return nodes.listNodesInConference(this.ctx, conferenceSid);
  }
  moveConferenceHome(sid: string, from: string, to: string): Promise<boolean> {
    return nodes.moveConferenceHome(this.ctx, sid, from, to);
  }

  insertCommand(command: { nodeId: string; kind: string; payload: string; replyTo: string | null }): Promise<number> {
    return commands.insertCommand(this.ctx, command);
  }
  takeCommand(id: number, nodeId: string): Promise<NodeCommand | undefined> {
    return commands.takeCommand(this.ctx, id, nodeId);
  }
  listPendingCommands(nodeId: string): Promise<number[]> {
    return commands.listPendingCommands(this.ctx, nodeId);
  }
  answerCommand(id: number, reply: CommandReply): Promise<void> {
    return commands.answerCommand(this.ctx, id, reply);
  }
  takeReply(id: number): Promise<CommandReply | undefined> {
    return commands.takeReply(this.ctx, id);
  }
  deleteCommand(id: number): Promise<void> {
    return commands.deleteCommand(this.ctx, id);
  }
  dropCommandsOf(nodeId: string, reason: string): Promise<number> {
    return commands.dropCommandsOf(this.ctx, nodeId, reason);
  }

  clusterSecret(name: string, candidate: string): Promise<string> {
    return clusterSecret(this.ctx, name, candidate);
  }

  takeCallbackSequence(conferenceSid: string, count: number): Promise<number> {
    return callbacks.takeCallbackSequence(this.ctx, conferenceSid, count);
  }
  insertConferenceCallbacks(queued: readonly QueuedConferenceCallback[]): Promise<void> {
    return callbacks.insertConferenceCallbacks(this.ctx, queued);
  }
  takeConferenceCallbacks(conferenceSid: string): Promise<QueuedConferenceCallback[]> {
    return callbacks.takeConferenceCallbacks(this.ctx, conferenceSid);
  }
  listConferencesWithCallbacks(homeNodeId: string | undefined): Promise<string[]> {
    return callbacks.listConferencesWithCallbacks(this.ctx, homeNodeId);
  }
  notifyCluster(messages: readonly ClusterMessage[]): Promise<void> {
    return callbacks.notifyCluster(this.ctx, messages);
  }
}

export interface KyselyStoreOptions {
  /** The participant read cache (participant-cache.ts). */
  cache?: ParticipantCache;
  /** PostgreSQL: the cluster channel's name (NOTIFY) and its listening side. */
  channel?: { name: string; listener: ClusterChannel };
  /** Run first by `close()` (a LISTEN connection to end). */
  onClose?: () => Promise<void>;
  /** The `log` the Kysely instance was made with (query durations). */
  timings?: QueryTimings;
  /** PostgreSQL: the pool's figures. */
  pool?: () => PoolFigures;
}

export class KyselyStore extends KyselyStoreOperations implements Store {
  readonly kind: Dialect;
  readonly channel?: ClusterChannel;
  private readonly onClose: () => Promise<void>;
  private readonly timings: QueryTimings | undefined;
  private readonly pool: (() => PoolFigures) | undefined;

  constructor(db: Kysely<Database>, dialect: Dialect, options: KyselyStoreOptions = {}) {
    super({ db, dialect, ...(options.cache ? { participants: options.cache } : {}), ...(options.channel ? { channel: options.channel.name } : {}) });
    this.kind = dialect;
    if (options.channel) this.channel = options.channel.listener;
    this.onClose = options.onClose ?? (async () => {});
    this.timings = options.timings;
    this.pool = options.pool;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.ctx.db);
  }

  poolFigures(): PoolFigures | undefined {
    return this.pool?.();
  }

  listenToQueries(listener: QueryListener): void {
    this.timings?.listen(listener);
  }

  /**
   * Kysely commits when `work` resolves and rolls back when it throws. On SQLite the
   * transaction holds the store's only connection: calling the store itself (rather than
   * `tx`) from inside `work` would wait for ever.
   */
  transaction<T>(work: (tx: StoreOperations) => Promise<T>): Promise<T> {
    const { dialect, participants: cache, channel } = this.ctx;
    return this.ctx.db
      .transaction()
      .execute((trx) =>
        work(new KyselyStoreOperations({ db: trx, dialect, inTransaction: true, ...(cache ? { participants: cache } : {}), ...(channel ? { channel } : {}) })),
      );
  }

  setPeerCount(peers: number): void {
    this.ctx.participants?.setShared(peers > 0);
  }

  async close(): Promise<void> {
    await this.onClose();
    await this.ctx.db.destroy();
  }
}
