/**
 * Rows <-> domain records, in one place: snake_case columns to camelCase fields, 0/1 to
 * booleans. The rest of the program never sees a row, and the store never hands one out.
 * Written field by field (no generic key conversion) because these run on every request.
 */
import type { Account, ApiKey, Conference, ConferenceCallbackEvent, Participant } from '../domain/model.js';
import type { AccountRow, AccountsTable, ApiKeyRow, ApiKeysTable, ConferenceRow, ConferencesTable, IntBool, ParticipantRow, ParticipantsTable } from './schema.js';

/** A table's columns without `seq`, which the database assigns. */
export type Insertable<T> = Omit<T, 'seq'>;

function bit(value: boolean): IntBool {
  return value ? 1 : 0;
}

export function accountToRow(a: Account): Insertable<AccountsTable> {
  return {
    sid: a.sid,
    owner_account_sid: a.ownerAccountSid,
    friendly_name: a.friendlyName,
    auth_token: a.authToken,
    status: a.status,
    date_created: a.dateCreated,
    date_updated: a.dateUpdated,
  };
}

export function rowToAccount(r: AccountRow): Account {
  return {
    sid: r.sid,
    ownerAccountSid: r.owner_account_sid,
    friendlyName: r.friendly_name,
    authToken: r.auth_token,
    status: r.status,
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

export function keyToRow(k: ApiKey): Insertable<ApiKeysTable> {
  return {
    sid: k.sid,
    account_sid: k.accountSid,
    friendly_name: k.friendlyName,
    secret_hash: k.secretHash,
    secret_sealed: k.sealedSecret ?? null,
    date_created: k.dateCreated,
    date_updated: k.dateUpdated,
  };
}

export function rowToKey(r: ApiKeyRow): ApiKey {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    friendlyName: r.friendly_name,
    secretHash: r.secret_hash,
    ...(r.secret_sealed === null ? {} : { sealedSecret: r.secret_sealed }),
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

/** The sequence counter is only ever moved by `takeCallbackSequence`, never written whole. */
export type ConferenceInsert = Omit<Insertable<ConferencesTable>, 'callback_sequence'>;

export function conferenceToRow(c: Conference): ConferenceInsert {
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    friendly_name: c.friendlyName,
    status: c.status,
    region: c.region,
    max_participants: c.maxParticipants,
    reason_conference_ended: c.reasonConferenceEnded,
    call_sid_ending_conference: c.callSidEndingConference,
    status_callback: c.statusCallback?.url ?? null,
    status_callback_method: c.statusCallback?.method ?? null,
    status_callback_events: c.statusCallback ? c.statusCallback.events.join(' ') : null,
    home_node_id: c.homeNodeId ?? null,
    date_created: c.dateCreated,
    date_updated: c.dateUpdated,
  };
}

export function rowToConference(r: ConferenceRow): Conference {
  return {
    sid: r.sid,
    accountSid: r.account_sid,
    friendlyName: r.friendly_name,
    status: r.status,
    region: r.region,
    maxParticipants: r.max_participants,
    reasonConferenceEnded: r.reason_conference_ended,
    callSidEndingConference: r.call_sid_ending_conference,
    statusCallback:
      r.status_callback === null
        ? null
        : {
            url: r.status_callback,
            method: r.status_callback_method ?? 'POST',
            events: r.status_callback_events ? (r.status_callback_events.split(' ') as ConferenceCallbackEvent[]) : [],
          },
    ...(r.home_node_id === null ? {} : { homeNodeId: r.home_node_id }),
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}

export function participantToRow(p: Participant): Insertable<ParticipantsTable> {
  return {
    call_sid: p.callSid,
    conference_sid: p.conferenceSid,
    account_sid: p.accountSid,
    label: p.label,
    status: p.status,
    muted: bit(p.muted),
    hold: bit(p.hold),
    coaching: bit(p.coaching),
    call_sid_to_coach: p.callSidToCoach,
    start_conference_on_enter: bit(p.startConferenceOnEnter),
    end_conference_on_exit: bit(p.endConferenceOnExit),
    beep: p.beep,
    queue_time: p.queueTime,
    goes_on: bit(p.goesOn ?? false),
    date_created: p.dateCreated,
    date_updated: p.dateUpdated,
  };
}

export function rowToParticipant(r: ParticipantRow): Participant {
  return {
    callSid: r.call_sid,
    conferenceSid: r.conference_sid,
    accountSid: r.account_sid,
    label: r.label,
    status: r.status,
    muted: r.muted === 1,
    hold: r.hold === 1,
    coaching: r.coaching === 1,
    callSidToCoach: r.call_sid_to_coach,
    startConferenceOnEnter: r.start_conference_on_enter === 1,
    endConferenceOnExit: r.end_conference_on_exit === 1,
    beep: r.beep,
    queueTime: r.queue_time,
    ...(r.goes_on === 1 ? { goesOn: true } : {}),
    dateCreated: r.date_created,
    dateUpdated: r.date_updated,
  };
}
