/**
 * The SIP domain tables (issue 14) as Kysely sees them; part of `Database` (schema.ts).
 * Credentials hold HA1 digests, never a password (domain/sip-credential.ts).
 */
import type { HttpMethod } from '../domain/call.js';
import type { SipCredentialPurpose } from '../domain/sip-domain.js';
import type { IntBool, SeqColumn } from './schema.js';

export interface SipDomainsTable extends SeqColumn {
  sid: string;
  account_sid: string;
  domain_name: string;
  friendly_name: string;
  voice_url: string | null;
  voice_method: HttpMethod;
  voice_fallback_url: string | null;
  voice_fallback_method: HttpMethod;
  voice_status_callback_url: string | null;
  voice_status_callback_method: HttpMethod;
  sip_registration: IntBool;
  secure: IntBool;
  date_created: number;
  date_updated: number;
}

/** Credential lists and IP access control lists have the same columns. */
export interface SipListsTable extends SeqColumn {
  sid: string;
  account_sid: string;
  friendly_name: string;
  date_created: number;
  date_updated: number;
}

export interface SipCredentialsTable extends SeqColumn {
  sid: string;
  account_sid: string;
  credential_list_sid: string;
  username: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  date_created: number;
  date_updated: number;
}

export interface SipIpAddressesTable extends SeqColumn {
  sid: string;
  account_sid: string;
  ip_access_control_list_sid: string;
  friendly_name: string;
  ip_address: string;
  cidr_prefix_length: number;
  date_created: number;
  date_updated: number;
}

export interface SipDomainCredentialListsTable extends SeqColumn {
  account_sid: string;
  domain_sid: string;
  credential_list_sid: string;
  purpose: SipCredentialPurpose;
  date_created: number;
  date_updated: number;
}

export interface SipDomainIpAccessControlListsTable extends SeqColumn {
  account_sid: string;
  domain_sid: string;
  ip_access_control_list_sid: string;
  date_created: number;
  date_updated: number;
}

export interface SipRegistrationsTable extends SeqColumn {
  domain_sid: string;
  username: string;
  contact: string;
  source_host: string;
  source_port: number;
  source_transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  call_id: string;
  cseq: number;
  expires_at: number;
  registered_at: number;
  /** The Path values as a JSON array (migration 0009); null without a Path. */
  path: string | null;
}

export interface SipTables {
  sip_domains: SipDomainsTable;
  sip_credential_lists: SipListsTable;
  sip_credentials: SipCredentialsTable;
  sip_ip_access_control_lists: SipListsTable;
  sip_ip_addresses: SipIpAddressesTable;
  sip_domain_credential_lists: SipDomainCredentialListsTable;
  sip_domain_ip_access_control_lists: SipDomainIpAccessControlListsTable;
  sip_registrations: SipRegistrationsTable;
}
