/**
 * Registered contacts of SIP Domain users (RFC 3261 §10.3): a binding per (domain, username,
 * Contact URI), made or refreshed in one statement (an upsert on that key, so two nodes
 * refreshing the same binding at once leave one row), read live only (past `expires_at` a
 * binding is as good as gone until the sweep deletes it). A binding made through proxies keeps
 * their Path (RFC 3327) as a JSON array; a refresh without one clears it.
 */
import type { Selectable } from 'kysely';
import type { SipRegistration } from '../domain/sip-registration.js';
import type { QueryContext } from './query-context.js';
import type { SipRegistrationsTable } from './sip-schema.js';

function toRow(r: SipRegistration): Omit<SipRegistrationsTable, 'seq'> {
  return {
    domain_sid: r.domainSid,
    username: r.username,
    contact: r.contact,
    source_host: r.sourceHost,
    source_port: r.sourcePort,
    source_transport: r.sourceTransport,
    call_id: r.callId,
    cseq: r.cseq,
    expires_at: r.expiresAt,
    registered_at: r.registeredAt,
    path: r.path && r.path.length > 0 ? JSON.stringify(r.path) : null,
  };
}

function fromRow(r: Selectable<SipRegistrationsTable>): SipRegistration {
  const path = r.path === null ? undefined : (JSON.parse(r.path) as string[]);
  return {
    domainSid: r.domain_sid,
    username: r.username,
    contact: r.contact,
    sourceHost: r.source_host,
    sourcePort: Number(r.source_port),
    sourceTransport: r.source_transport,
    callId: r.call_id,
    cseq: Number(r.cseq),
    expiresAt: Number(r.expires_at),
    registeredAt: Number(r.registered_at),
    ...(path ? { path } : {}),
  };
}

export async function saveSipRegistration({ db }: QueryContext, registration: SipRegistration): Promise<void> {
  const { domain_sid: _d, username: _u, contact: _c, ...changes } = toRow(registration);
  await db
    .insertInto('sip_registrations')
    .values(toRow(registration))
    .onConflict((oc) => oc.columns(['domain_sid', 'username', 'contact']).doUpdateSet(changes))
    .execute();
}

export async function listSipRegistrations({ db }: QueryContext, domainSid: string, username: string, now: number): Promise<SipRegistration[]> {
  const rows = await db
    .selectFrom('sip_registrations')
    .selectAll()
    .where('domain_sid', '=', domainSid)
    .where('username', '=', username)
    .where('expires_at', '>', now)
    .orderBy('registered_at', 'desc')
    .orderBy('seq', 'desc')
    .execute();
  return rows.map(fromRow);
}

export async function deleteSipRegistrations({ db }: QueryContext, domainSid: string, username: string, contacts?: readonly string[]): Promise<number> {
  if (contacts !== undefined && contacts.length === 0) return 0;
  let query = db.deleteFrom('sip_registrations').where('domain_sid', '=', domainSid).where('username', '=', username);
  if (contacts !== undefined) query = query.where('contact', 'in', [...contacts]);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteExpiredSipRegistrations({ db }: QueryContext, now: number): Promise<number> {
  const result = await db.deleteFrom('sip_registrations').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
