/**
 * What the domain and the services need from the outside, as interfaces. `store/sqlite` and
 * `store/postgres` implement `Store`; one contract test suite (test/store) runs against both.
 */
import type { Application, ApplicationFilter } from './application.js';
import type { Call, CallStatus } from './call.js';
import type { ClusterChannel, ClusterMessage, CommandReply, NodeCommand, NodeRecord, NodeRegistration, QueuedConferenceCallback } from './cluster.js';
import type { Account, AccountStatus, ApiKey, Conference, ConferenceStatus, Participant } from './model.js';
import type { PhoneNumber } from './phone-number.js';
import type { Recording } from './recording.js';
import type { PageRequest, PageResult } from './paging.js';
import type { SipCredential, SipCredentialList } from './sip-credential.js';
import type { SipCredentialPurpose, SipDomain, SipDomainAuth, SipListMapping } from './sip-domain.js';
import type { SipIpAccessControlList, SipIpAddress } from './sip-ip-access.js';
import type { SipRegistration } from './sip-registration.js';

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

export interface RecordingFilter {
  accountSid: string;
  /** A call's recordings; null: only recordings of no call (a conference's own, its mix). */
  callSid?: string | null;
  conferenceSid?: string;
  dateCreated?: TimeRange;
}

export interface PhoneNumberFilter {
  accountSid: string;
  phoneNumber?: string;
  friendlyName?: string;
}

/**
 * What several nodes share (domain/cluster.ts). Times are the database's clock. On SQLite the
 * same tables serve the one node, and `notifyCluster` does nothing.
 */
export interface ClusterOperations {
  registerNode(node: NodeRegistration): Promise<void>;
  /** Extends the lease by `leaseMs` from now; false when the node is no longer live (declared dead). */
  renewNode(id: string, leaseMs: number): Promise<boolean>;
  /** Live nodes whose lease has lapsed. */
  listExpiredNodes(): Promise<NodeRecord[]>;
  /** Declares a live node with a lapsed lease dead; true only for the one caller that did. */
  declareNodeDead(id: string): Promise<boolean>;
  /** The node stopped cleanly, its calls ended: there is nothing to clear. */
  markNodeLeft(id: string): Promise<void>;
  findNode(id: string): Promise<NodeRecord | undefined>;
  /** Live nodes, oldest first. */
  listLiveNodes(): Promise<NodeRecord[]>;
  /** Forgets dead and departed nodes whose lease ended more than `olderThanMs` ago; returns how many. */
  forgetNodes(olderThanMs: number): Promise<number>;
  /** Up to `limit` calls of the node that have not ended. */
  /** Nodes not live that a live call or conference still names (cleared again by a survivor). */
  listGoneNodesWithLeftovers(): Promise<string[]>;
  listLiveCallsOfNode(nodeId: string, limit: number): Promise<Call[]>;
  /** Up to `limit` live conferences homed at the node. */
  listConferencesHomedAt(nodeId: string, limit: number): Promise<Conference[]>;
  /** The live nodes running calls of the conference's participants, the busiest first. */
  listNodesInConference(conferenceSid: string): Promise<string[]>;
  /** Moves a live conference's home; false when it was not homed at `from` (someone moved it). */
  moveConferenceHome(sid: string, from: string, to: string): Promise<boolean>;

  /** Queues a command for a node; returns its id. */
  insertCommand(command: { nodeId: string; kind: string; payload: string; replyTo: string | null }): Promise<number>;
  /** Takes a pending command of the node, once: a one-way command is deleted, a request marked taken. */
  takeCommand(id: number, nodeId: string): Promise<NodeCommand | undefined>;
  /** Ids of the node's commands still pending, oldest first. */
  listPendingCommands(nodeId: string): Promise<number[]>;
  /** Stores the answer to a taken request (its requester is told). */
  answerCommand(id: number, reply: CommandReply): Promise<void>;
  /** Collects (and deletes) the answer to a request, once it has one. */
  takeReply(id: number): Promise<CommandReply | undefined>;
  deleteCommand(id: number): Promise<void>;
  /** A dead node's one-way commands are deleted and its requests failed with `reason`. */
  dropCommandsOf(nodeId: string, reason: string): Promise<number>;

  /** Reserves `count` SequenceNumbers of the conference; returns the first. */
  takeCallbackSequence(conferenceSid: string, count: number): Promise<number>;
  insertConferenceCallbacks(callbacks: readonly QueuedConferenceCallback[]): Promise<void>;
  /** The conference's queued callbacks, deleted as taken, in number order. */
  takeConferenceCallbacks(conferenceSid: string): Promise<QueuedConferenceCallback[]>;
  /** Conferences homed at the node (or homeless) with callbacks queued; all of them when undefined. */
  listConferencesWithCallbacks(homeNodeId: string | undefined): Promise<string[]>;

  /**
   * The secret every node shares under `name`: `candidate` if none was kept yet (this call
   * keeps it), else the one kept first — so nodes starting together agree.
   */
  clusterSecret(name: string, candidate: string): Promise<string>;

  /** PostgreSQL: NOTIFYs the messages on the cluster channel at commit; SQLite: nothing. */
  notifyCluster(messages: readonly ClusterMessage[]): Promise<void>;
}

/** Every store operation; inside `transaction` the same operations run in one transaction. */
export interface StoreOperations extends ClusterOperations {
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
  /**
   * Stores the call's new state, unless the stored call has ended already (its node or a
   * survivor of its node ended it): then nothing changes and false is returned.
   */
  updateCall(call: Call): Promise<boolean>;
  /** Deletes the call's record; false when there was none. */
  deleteCall(sid: string): Promise<boolean>;
  /** Newest first. */
  listCalls(filter: CallFilter, page: PageRequest): Promise<PageResult<Call>>;
  /** Up to `limit` calls of any account still queued, ringing or in progress (start-up sweep). */
  listLiveCalls(limit: number): Promise<Call[]>;

  insertRecording(recording: Recording): Promise<void>;
  /** Any account's when `accountSid` is undefined; else only that account's. */
  findRecording(sid: string, accountSid?: string): Promise<Recording | undefined>;
  /** Stores the recording's new state; false when there is no such recording (deleted). */
  updateRecording(recording: Recording): Promise<boolean>;
  deleteRecording(sid: string): Promise<boolean>;
  /** Newest first (the most recently stored first, as calls are listed). */
  listRecordings(filter: RecordingFilter, page: PageRequest): Promise<PageResult<Recording>>;
  /** Up to `limit` recordings of any account still in-progress, paused, stopped or processing (start-up recovery). */
  listLiveRecordings(limit: number): Promise<Recording[]>;
  /** Up to `limit` recordings of any account created before `before` (retention). */
  listRecordingsCreatedBefore(before: number, limit: number): Promise<Recording[]>;

  /** Throws ConflictError (`sid`) when the number is already registered. */
  insertPhoneNumber(number: PhoneNumber): Promise<void>;
  findPhoneNumber(accountSid: string, sid: string): Promise<PhoneNumber | undefined>;
  /** Routing of inbound calls: whichever account owns the number. */
  findPhoneNumberByNumber(phoneNumber: string): Promise<PhoneNumber | undefined>;
  updatePhoneNumber(number: PhoneNumber): Promise<void>;
  deletePhoneNumber(sid: string): Promise<boolean>;
  /** Oldest first. */
  listPhoneNumbers(filter: PhoneNumberFilter, page: PageRequest): Promise<PageResult<PhoneNumber>>;

  // TwiML Applications (issue 16); lists are oldest first.
  insertApplication(application: Application): Promise<void>;
  /** By SID alone, whichever account owns it: callers check the account. */
  findApplication(sid: string): Promise<Application | undefined>;
  updateApplication(application: Application): Promise<void>;
  /** Also clears it from the numbers whose VoiceApplicationSid named it. */
  deleteApplication(sid: string): Promise<boolean>;
  listApplications(accountSid: string, page: PageRequest, filter?: ApplicationFilter): Promise<PageResult<Application>>;

  // SIP domains and what lets requests into them (issue 14). Lists are oldest first. Deleting a
  // list or a domain deletes its entries and its mappings with it.
  /** Throws ConflictError (`sid`) when another domain has the name. */
  insertSipDomain(domain: SipDomain): Promise<void>;
  findSipDomain(accountSid: string, sid: string): Promise<SipDomain | undefined>;
  /** Routing of SIP requests by the Request-URI's host (lower case), whichever account owns it. */
  findSipDomainByName(domainName: string): Promise<SipDomain | undefined>;
  /** Throws ConflictError (`sid`) when another domain has the new name. */
  updateSipDomain(domain: SipDomain): Promise<void>;
  deleteSipDomain(sid: string): Promise<boolean>;
  listSipDomains(accountSid: string, page: PageRequest): Promise<PageResult<SipDomain>>;
  /** Which kinds of call mappings each domain has (Twilio's `auth_type`); every SID given is in the map. */
  findSipDomainAuth(domainSids: readonly string[]): Promise<Map<string, SipDomainAuth>>;

  insertSipCredentialList(list: SipCredentialList): Promise<void>;
  findSipCredentialList(accountSid: string, sid: string): Promise<SipCredentialList | undefined>;
  updateSipCredentialList(list: SipCredentialList): Promise<void>;
  deleteSipCredentialList(sid: string): Promise<boolean>;
  listSipCredentialLists(accountSid: string, page: PageRequest): Promise<PageResult<SipCredentialList>>;

  /** Throws ConflictError (`sid`) when the list has a credential of that username. */
  insertSipCredential(credential: SipCredential): Promise<void>;
  findSipCredential(credentialListSid: string, sid: string): Promise<SipCredential | undefined>;
  updateSipCredential(credential: SipCredential): Promise<void>;
  deleteSipCredential(sid: string): Promise<boolean>;
  listSipCredentials(credentialListSid: string, page: PageRequest): Promise<PageResult<SipCredential>>;
  /**
   * Digest: the credentials of `username` in the lists mapped to the domain for `purpose`
   * (several lists may each hold the name; a response matching any of them authenticates).
   */
  findSipDomainCredentials(domainSid: string, purpose: SipCredentialPurpose, username: string): Promise<SipCredential[]>;

  insertSipIpAccessControlList(list: SipIpAccessControlList): Promise<void>;
  findSipIpAccessControlList(accountSid: string, sid: string): Promise<SipIpAccessControlList | undefined>;
  updateSipIpAccessControlList(list: SipIpAccessControlList): Promise<void>;
  deleteSipIpAccessControlList(sid: string): Promise<boolean>;
  listSipIpAccessControlLists(accountSid: string, page: PageRequest): Promise<PageResult<SipIpAccessControlList>>;

  insertSipIpAddress(address: SipIpAddress): Promise<void>;
  findSipIpAddress(ipAccessControlListSid: string, sid: string): Promise<SipIpAddress | undefined>;
  updateSipIpAddress(address: SipIpAddress): Promise<void>;
  deleteSipIpAddress(sid: string): Promise<boolean>;
  listSipIpAddresses(ipAccessControlListSid: string, page: PageRequest): Promise<PageResult<SipIpAddress>>;
  /** Calls: every address of the IP access control lists mapped to the domain. */
  listSipDomainIpAddresses(domainSid: string): Promise<SipIpAddress[]>;

  /** Throws ConflictError (`sid`) when the list is already mapped to the domain for `purpose`. */
  insertSipCredentialListMapping(purpose: SipCredentialPurpose, mapping: SipListMapping): Promise<void>;
  findSipCredentialListMapping(purpose: SipCredentialPurpose, domainSid: string, credentialListSid: string): Promise<SipListMapping | undefined>;
  deleteSipCredentialListMapping(purpose: SipCredentialPurpose, domainSid: string, credentialListSid: string): Promise<boolean>;
  listSipCredentialListMappings(purpose: SipCredentialPurpose, domainSid: string, page: PageRequest): Promise<PageResult<SipListMapping>>;

  /** Throws ConflictError (`sid`) when the list is already mapped to the domain. */
  insertSipIpAccessControlListMapping(mapping: SipListMapping): Promise<void>;
  findSipIpAccessControlListMapping(domainSid: string, ipAccessControlListSid: string): Promise<SipListMapping | undefined>;
  deleteSipIpAccessControlListMapping(domainSid: string, ipAccessControlListSid: string): Promise<boolean>;
  listSipIpAccessControlListMappings(domainSid: string, page: PageRequest): Promise<PageResult<SipListMapping>>;

  // Registered contacts of SIP Domain users (RFC 3261 §10.3), shared by every node.
  /** Makes or refreshes the binding (domain, username, contact). */
  saveSipRegistration(registration: SipRegistration): Promise<void>;
  /** The user's bindings still live at `now`, most recently registered first. */
  listSipRegistrations(domainSid: string, username: string, now: number): Promise<SipRegistration[]>;
  /** Removes the user's bindings for these contacts, or all of them; how many went. */
  deleteSipRegistrations(domainSid: string, username: string, contacts?: readonly string[]): Promise<number>;
  /** The sweep: removes every binding expired at `now`; how many went. */
  deleteExpiredSipRegistrations(now: number): Promise<number>;
}

export interface Store extends StoreOperations {
  /** Which engine, for the start-up banner and logs: `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** PostgreSQL: what the nodes tell each other, as they commit it. SQLite (one node): none. */
  readonly channel?: ClusterChannel;
  /** Runs `work` in one transaction; it commits when `work` resolves, rolls back when it throws. */
  transaction<T>(work: (tx: StoreOperations) => Promise<T>): Promise<T>;
  /** How many other nodes are live now (node-membership.ts): read caches are exact only alone. */
  setPeerCount(peers: number): void;
  /** A cheap round trip to the database (`select 1`): readiness. */
  ping(): Promise<void>;
  /** PostgreSQL: its connection pool now; SQLite (one connection): undefined. */
  poolFigures(): PoolFigures | undefined;
  /** Tells `listener` how long each query took (the metrics); one listener, the last given. */
  listenToQueries(listener: QueryListener): void;
  close(): Promise<void>;
}

/** A query's duration in seconds, and whether it failed. */
export type QueryListener = (seconds: number, failed: boolean) => void;

export interface PoolFigures {
  /** Connections open, idle among them, and requests waiting for one. */
  total: number;
  idle: number;
  waiting: number;
}

/** The time, injected so that tests and rules do not read the clock themselves. */
export interface Clock {
  now(): number;
}
