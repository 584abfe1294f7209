/**
 * The schema's history, as a static in-code list of Kysely migrations. No directory scanning
 * (Kysely's FileMigrationProvider): the same list works from `dist/` and under tsx, and the
 * bundle has no loose files to lose. Both engines run the same migration code; the few
 * column types that differ are chosen by the `dialect` argument.
 *
 * A migration, once released, never changes: add a new entry (`0002_...`) instead. Names
 * sort in the order they must run.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './schema.js';

/** Column types that differ between the engines. */
function types(dialect: Dialect) {
  return {
    /** Epoch milliseconds overflow int4 (PostgreSQL `integer`); SQLite integers are 64-bit. */
    millis: dialect === 'postgres' ? 'bigint' : 'integer',
  } as const;
}

/**
 * `seq`, the ever-growing paging keyset. SQLite needs AUTOINCREMENT, or a deleted last row's
 * rowid would be reused and a cursor could see a "new" row behind it; PostgreSQL identities
 * never go back.
 */
function createTableWithSeq(db: Kysely<unknown>, dialect: Dialect, name: string) {
  const table = db.schema.createTable(name);
  return dialect === 'postgres'
    ? table.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
}

function initial(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableWithSeq(db, dialect, 'accounts')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        // An owner account owns itself, so the reference also holds for owners; it also
        // guarantees an owner is older (smaller seq) than its subaccounts, which is what
        // makes "owner first, then oldest first" a plain seq order.
        .addColumn('owner_account_sid', 'text', (c) => c.notNull().references('accounts.sid'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('auth_token', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('accounts_owner').on('accounts').columns(['owner_account_sid', 'seq']).execute();

      await createTableWithSeq(db, dialect, 'api_keys')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('api_keys_account').on('api_keys').columns(['account_sid', 'seq']).execute();

      await createTableWithSeq(db, dialect, 'conferences')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('max_participants', 'integer', (c) => c.notNull())
        .addColumn('reason_conference_ended', 'text')
        .addColumn('call_sid_ending_conference', 'text')
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('conferences_account').on('conferences').columns(['account_sid', 'seq']).execute();
      // At most one live conference per name and account: the rule that makes two calls
      // joining "my-room" at the same moment land in the same conference.
      // `findLiveConferenceByName` repeats this predicate literally so SQLite can use the index.
      await db.schema
        .createIndex('conferences_live_name')
        .unique()
        .on('conferences')
        .columns(['account_sid', 'friendly_name'])
        .where(sql.ref('status'), '<>', sql.lit('completed'))
        .execute();

      await createTableWithSeq(db, dialect, 'participants')
        // A call is in at most one conference at a time; a participant's row is deleted when it leaves.
        .addColumn('call_sid', 'text', (c) => c.notNull().unique())
        .addColumn('conference_sid', 'text', (c) => c.notNull().references('conferences.sid').onDelete('cascade'))
        .addColumn('account_sid', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('muted', 'integer', (c) => c.notNull())
        .addColumn('hold', 'integer', (c) => c.notNull())
        .addColumn('coaching', 'integer', (c) => c.notNull())
        .addColumn('call_sid_to_coach', 'text')
        .addColumn('start_conference_on_enter', 'integer', (c) => c.notNull())
        .addColumn('end_conference_on_exit', 'integer', (c) => c.notNull())
        .addColumn('beep', 'text', (c) => c.notNull())
        .addColumn('queue_time', millis)
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('participants_conference').on('participants').columns(['conference_sid', 'seq']).execute();
      await db.schema
        .createIndex('participants_label')
        .unique()
        .on('participants')
        .columns(['conference_sid', 'label'])
        .where(sql.ref('label'), 'is not', null)
        .execute();
    },
  };
}

/** Calls (the legs TwiML drives) and the numbers inbound calls are routed by. */
function callsAndNumbers(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableWithSeq(db, dialect, 'calls')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        .addColumn('parent_call_sid', 'text')
        .addColumn('to', 'text', (c) => c.notNull())
        .addColumn('from', 'text', (c) => c.notNull())
        .addColumn('phone_number_sid', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('timeout', 'integer', (c) => c.notNull())
        .addColumn('start_time', millis)
        .addColumn('end_time', millis)
        .addColumn('duration', 'integer')
        .addColumn('queue_time', 'integer', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('fallback_url', 'text')
        .addColumn('fallback_method', 'text', (c) => c.notNull())
        .addColumn('twiml', 'text')
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'text', (c) => c.notNull())
        .addColumn('status_callback_events', 'text', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('calls_account').on('calls').columns(['account_sid', 'seq']).execute();
      await db.schema.createIndex('calls_parent').on('calls').columns(['parent_call_sid']).execute();

      await createTableWithSeq(db, dialect, 'phone_numbers')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        // Inbound calls are routed by the number, so a number belongs to one account only.
        .addColumn('phone_number', 'text', (c) => c.notNull().unique())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('voice_url', 'text')
        .addColumn('voice_method', 'text', (c) => c.notNull())
        .addColumn('voice_fallback_url', 'text')
        .addColumn('voice_fallback_method', 'text', (c) => c.notNull())
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'text', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('phone_numbers_account').on('phone_numbers').columns(['account_sid', 'seq']).execute();
    },
  };
}

/** Where a conference's events are posted (set by its first participant). */
function conferenceCallbacks(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('conferences').addColumn('status_callback', 'text').execute();
      await db.schema.alterTable('conferences').addColumn('status_callback_method', 'text').execute();
      await db.schema.alterTable('conferences').addColumn('status_callback_events', 'text').execute();
    },
  };
}

/**
 * PostgreSQL: every change to a participant is NOTIFYed on a channel of the schema, so that
 * each node's participant read cache can drop it (participant-cache.ts). SQLite: nothing.
 */
function participantNotifications(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`
        create function conclave_participant_changed() returns trigger language plpgsql as $$
        begin
          perform pg_notify('conclave_participants_' || tg_table_schema, coalesce(new.call_sid, old.call_sid));
          return null;
        end $$`.execute(db);
      await sql`
        create trigger participants_changed after insert or update or delete on participants
        for each row execute function conclave_participant_changed()`.execute(db);
    },
  };
}

/**
 * Several nodes on one PostgreSQL (design.md "Several nodes"): the nodes and their leases,
 * commands addressed to a node, each call's node and each conference's home node, and the
 * conference callbacks waiting for their home node to send them, numbered by a per-conference
 * counter (Twilio's `SequenceNumber`). SQLite gets the same tables (one node, which is always
 * the home); the notifications are PostgreSQL's alone.
 */
function cluster(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('nodes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // The host other nodes send RTP to (trunks of conferences that span nodes).
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('http_url', 'text')
        .addColumn('sip_address', 'text')
        .addColumn('started_at', millis, (c) => c.notNull())
        // Milliseconds of the database's clock, so that the nodes' own clocks never matter.
        .addColumn('lease_until', millis, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .execute();

      await db.schema.alterTable('calls').addColumn('node_id', 'text').execute();
      await db.schema.createIndex('calls_node').on('calls').columns(['node_id', 'status']).execute();
      await db.schema.alterTable('conferences').addColumn('home_node_id', 'text').execute();
      await db.schema.alterTable('conferences').addColumn('callback_sequence', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('conferences_home').on('conferences').columns(['home_node_id', 'status']).execute();
      await db.schema.alterTable('participants').addColumn('goes_on', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      await createTableWithSeq(db, dialect, 'node_commands')
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        // The node waiting for the result, when one is (a request, not a one-way command).
        .addColumn('reply_to', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('created_at', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('node_commands_node').on('node_commands').columns(['node_id', 'seq']).execute();

      await createTableWithSeq(db, dialect, 'conference_callbacks')
        .addColumn('conference_sid', 'text', (c) => c.notNull())
        .addColumn('sequence_number', 'integer', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('conference_callbacks_number').unique().on('conference_callbacks').columns(['conference_sid', 'sequence_number']).execute();

      if (dialect !== 'postgres') return;
      // One channel per schema carries what the nodes tell each other, in commit order; these
      // triggers add a command's arrival, a request's answer and a node's death to it.
      await sql`
        create function conclave_cluster_notify() returns trigger language plpgsql as $$
        declare
          channel text := 'conclave_cluster_' || tg_table_schema;
        begin
          if tg_table_name = 'node_commands' then
            if tg_op = 'INSERT' then
              perform pg_notify(channel, json_build_object('t', 'command', 'node', new.node_id, 'id', new.seq)::text);
            elsif new.reply_to is not null and new.state <> old.state and new.state in ('done', 'failed') then
              perform pg_notify(channel, json_build_object('t', 'reply', 'node', new.reply_to, 'id', new.seq)::text);
            end if;
          elsif tg_table_name = 'nodes' and new.state = 'dead' and old.state <> 'dead' then
            perform pg_notify(channel, json_build_object('t', 'node-dead', 'node', new.id)::text);
          end if;
          return null;
        end $$`.execute(db);
      await sql`
        create trigger node_commands_notify after insert or update on node_commands
        for each row execute function conclave_cluster_notify()`.execute(db);
      await sql`
        create trigger nodes_notify after update on nodes
        for each row execute function conclave_cluster_notify()`.execute(db);
    },
  };
}

/**
 * Recordings of conferences and calls (issue 13): one row per recording, its media kept by
 * RecordingStorage. Indexed for the lists (the account's, a call's, a conference's, newest
 * first by `seq`), for the start-up recovery of live ones, and for retention by age.
 */
function recordings(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableWithSeq(db, dialect, 'recordings')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        // No foreign keys to calls or conferences: a recording outlives a deleted call's row.
        .addColumn('call_sid', 'text')
        .addColumn('conference_sid', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('channels', 'integer', (c) => c.notNull())
        .addColumn('track', 'text', (c) => c.notNull())
        .addColumn('trim', 'integer', (c) => c.notNull())
        .addColumn('pause_behavior', 'text', (c) => c.notNull())
        .addColumn('start_time', millis, (c) => c.notNull())
        .addColumn('duration', 'integer')
        .addColumn('error_code', 'integer')
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'text')
        .addColumn('status_callback_events', 'text')
        .addColumn('node_id', 'text')
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('recordings_account').on('recordings').columns(['account_sid', 'seq']).execute();
      await db.schema.createIndex('recordings_call').on('recordings').columns(['call_sid', 'seq']).execute();
      await db.schema.createIndex('recordings_conference').on('recordings').columns(['conference_sid', 'seq']).execute();
      await db.schema.createIndex('recordings_status').on('recordings').columns(['status']).execute();
      await db.schema.createIndex('recordings_created').on('recordings').columns(['date_created']).execute();
    },
  };
}

/**
 * SIP domains, credential lists, IP access control lists and the mappings between them
 * (issue 14). A domain name is unique across the deployment (requests are routed by it), a
 * username within its list, a mapping per domain, purpose and list. Entries and mappings go
 * with their list or domain (cascade). Indexed for the lists (oldest first by `seq`) and for
 * what a SIP request looks up: the domain by name, a username's credentials in the lists
 * mapped to it, the addresses of the lists mapped to it.
 */
function sipDomains(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableWithSeq(db, dialect, 'sip_domains')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        .addColumn('domain_name', 'text', (c) => c.notNull().unique())
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('voice_url', 'text')
        .addColumn('voice_method', 'text', (c) => c.notNull())
        .addColumn('voice_fallback_url', 'text')
        .addColumn('voice_fallback_method', 'text', (c) => c.notNull())
        .addColumn('voice_status_callback_url', 'text')
        .addColumn('voice_status_callback_method', 'text', (c) => c.notNull())
        .addColumn('sip_registration', 'integer', (c) => c.notNull())
        .addColumn('secure', 'integer', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sip_domains_account').on('sip_domains').columns(['account_sid', 'seq']).execute();

      for (const table of ['sip_credential_lists', 'sip_ip_access_control_lists']) {
        await createTableWithSeq(db, dialect, table)
          .addColumn('sid', 'text', (c) => c.notNull().unique())
          .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
          .addColumn('friendly_name', 'text', (c) => c.notNull())
          .addColumn('date_created', millis, (c) => c.notNull())
          .addColumn('date_updated', millis, (c) => c.notNull())
          .execute();
        await db.schema.createIndex(`${table}_account`).on(table).columns(['account_sid', 'seq']).execute();
      }

      await createTableWithSeq(db, dialect, 'sip_credentials')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull())
        .addColumn('credential_list_sid', 'text', (c) => c.notNull().references('sip_credential_lists.sid').onDelete('cascade'))
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('realm', 'text', (c) => c.notNull())
        .addColumn('ha1_md5', 'text', (c) => c.notNull())
        .addColumn('ha1_sha256', 'text', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sip_credentials_list').on('sip_credentials').columns(['credential_list_sid', 'seq']).execute();
      await db.schema.createIndex('sip_credentials_username').unique().on('sip_credentials').columns(['credential_list_sid', 'username']).execute();

      await createTableWithSeq(db, dialect, 'sip_ip_addresses')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull())
        .addColumn('ip_access_control_list_sid', 'text', (c) => c.notNull().references('sip_ip_access_control_lists.sid').onDelete('cascade'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('ip_address', 'text', (c) => c.notNull())
        .addColumn('cidr_prefix_length', 'integer', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sip_ip_addresses_list').on('sip_ip_addresses').columns(['ip_access_control_list_sid', 'seq']).execute();

      await createTableWithSeq(db, dialect, 'sip_domain_credential_lists')
        .addColumn('account_sid', 'text', (c) => c.notNull())
        .addColumn('domain_sid', 'text', (c) => c.notNull().references('sip_domains.sid').onDelete('cascade'))
        .addColumn('credential_list_sid', 'text', (c) => c.notNull().references('sip_credential_lists.sid').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      // Also the list's index (domain, purpose, seq order within it) and the digest lookup's.
      await db.schema
        .createIndex('sip_domain_credential_lists_unique')
        .unique()
        .on('sip_domain_credential_lists')
        .columns(['domain_sid', 'purpose', 'credential_list_sid'])
        .execute();
      await db.schema.createIndex('sip_domain_credential_lists_list').on('sip_domain_credential_lists').columns(['credential_list_sid']).execute();

      await createTableWithSeq(db, dialect, 'sip_domain_ip_access_control_lists')
        .addColumn('account_sid', 'text', (c) => c.notNull())
        .addColumn('domain_sid', 'text', (c) => c.notNull().references('sip_domains.sid').onDelete('cascade'))
        .addColumn('ip_access_control_list_sid', 'text', (c) => c.notNull().references('sip_ip_access_control_lists.sid').onDelete('cascade'))
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('sip_domain_ip_acls_unique')
        .unique()
        .on('sip_domain_ip_access_control_lists')
        .columns(['domain_sid', 'ip_access_control_list_sid'])
        .execute();
      await db.schema.createIndex('sip_domain_ip_acls_list').on('sip_domain_ip_access_control_lists').columns(['ip_access_control_list_sid']).execute();
    },
  };
}

/**
 * Registered contacts of SIP Domain users (issue 14 §2, RFC 3261 §10.3): one row per binding
 * (domain, username, Contact URI), with where the REGISTER came from and when it expires.
 */
function sipRegistrations(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableWithSeq(db, dialect, 'sip_registrations')
        .addColumn('domain_sid', 'text', (c) => c.notNull().references('sip_domains.sid').onDelete('cascade'))
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('contact', 'text', (c) => c.notNull())
        .addColumn('source_host', 'text', (c) => c.notNull())
        .addColumn('source_port', 'integer', (c) => c.notNull())
        .addColumn('source_transport', 'text', (c) => c.notNull())
        .addColumn('call_id', 'text', (c) => c.notNull())
        .addColumn('cseq', millis, (c) => c.notNull())
        .addColumn('expires_at', millis, (c) => c.notNull())
        .addColumn('registered_at', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sip_registrations_binding').unique().on('sip_registrations').columns(['domain_sid', 'username', 'contact']).execute();
      await db.schema.createIndex('sip_registrations_expiry').on('sip_registrations').columns(['expires_at']).execute();
    },
  };
}

/**
 * The Path a binding was registered through (RFC 3327 §5.3): the REGISTER's Path values as a
 * JSON array, null for a phone that registered directly (every binding made before this).
 */
function sipRegistrationPaths(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('sip_registrations').addColumn('path', 'text').execute();
    },
  };
}

/**
 * Secrets every node of a deployment must share (the SIP digest nonces' signing key: a phone's
 * answer to one node's challenge may reach another through a front), made once by whichever
 * node asks first.
 */
function clusterSecrets(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cluster_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * API keys keep their secret sealed (AES-256-GCM under a cluster secret, services/sealed-secrets.ts)
 * besides its SHA-256, because an Access Token's HMAC can only be checked with the secret itself.
 * Keys made before this have none (null): tokens they sign are refused.
 */
function apiKeySecrets(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('api_keys').addColumn('secret_sealed', 'text').execute();
    },
  };
}

/**
 * TwiML Applications (issue 16): an account's named sets of voice URLs, listed oldest first and
 * filtered by friendly name; and the application a number may name to answer its calls
 * (Twilio's `VoiceApplicationSid`), cleared when the application is deleted.
 */
function applications(dialect: Dialect): Migration {
  const { millis } = types(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableWithSeq(db, dialect, 'applications')
        .addColumn('sid', 'text', (c) => c.notNull().unique())
        .addColumn('account_sid', 'text', (c) => c.notNull().references('accounts.sid').onDelete('cascade'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('api_version', 'text', (c) => c.notNull())
        .addColumn('voice_url', 'text')
        .addColumn('voice_method', 'text', (c) => c.notNull())
        .addColumn('voice_fallback_url', 'text')
        .addColumn('voice_fallback_method', 'text', (c) => c.notNull())
        .addColumn('status_callback', 'text')
        .addColumn('status_callback_method', 'text', (c) => c.notNull())
        .addColumn('voice_caller_id_lookup', 'integer', (c) => c.notNull())
        .addColumn('sms_url', 'text')
        .addColumn('sms_method', 'text', (c) => c.notNull())
        .addColumn('sms_fallback_url', 'text')
        .addColumn('sms_fallback_method', 'text', (c) => c.notNull())
        .addColumn('sms_status_callback', 'text')
        .addColumn('message_status_callback', 'text')
        .addColumn('public_application_connect_enabled', 'integer', (c) => c.notNull())
        .addColumn('date_created', millis, (c) => c.notNull())
        .addColumn('date_updated', millis, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('applications_account').on('applications').columns(['account_sid', 'seq']).execute();
      await db.schema.alterTable('phone_numbers').addColumn('voice_application_sid', 'text').execute();
      await db.schema.createIndex('phone_numbers_application').on('phone_numbers').columns(['voice_application_sid']).execute();
    },
  };
}

/** Every migration, keyed by name (Kysely runs them in name order). */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_calls_and_numbers': callsAndNumbers(dialect),
    '0003_conference_callbacks': conferenceCallbacks(),
    '0004_participant_notifications': participantNotifications(dialect),
    '0005_cluster': cluster(dialect),
    '0006_recordings': recordings(dialect),
    '0007_sip_domains': sipDomains(dialect),
    '0008_sip_registrations': sipRegistrations(dialect),
    '0009_sip_registration_paths': sipRegistrationPaths(),
    '0010_cluster_secrets': clusterSecrets(),
    '0011_applications': applications(dialect),
    '0012_api_key_secrets': apiKeySecrets(),
  };
}

/** Kysely's provider interface over the static list. */
export class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations(this.dialect));
  }
}

/**
 * PostgreSQL errors of a migrator that found the catalog changing under it (see migrateToLatest):
 * invalid_schema_name and undefined_table.
 */
const CATALOG_CHANGED = new Set(['3F000', '42P01']);
const MIGRATION_ATTEMPTS = 10;

/**
 * Whether the migrator failed only because the catalog changed under it: those codes, or an
 * internal error naming a catalog entry gone between two lookups of one statement (`cache
 * lookup failed for namespace …`, XX000: a schema dropped while the introspection ran).
 */
function catalogChanged(error: unknown, code: unknown): boolean {
  if (typeof code !== 'string') return false;
  if (CATALOG_CHANGED.has(code)) return true;
  return code === 'XX000' && error instanceof Error && error.message.startsWith('cache lookup failed');
}

/**
 * Brings the database up to the latest schema; throws the first migration error.
 *
 * Several nodes may start at once on one PostgreSQL database, a new one included, and Kysely's
 * migrator serialises them: on PostgreSQL its lock is a session advisory lock
 * (`pg_advisory_lock`, one key for the whole database: kysely's postgres-adapter.js), not its
 * lock table, so it holds even before that table exists; what it does before taking the lock —
 * create the schema, its two tables and the lock row, "if not exists" — looks again when it
 * fails, so another node doing the same at the same instant is no error; and the migrations run
 * in one transaction, committed before the lock is let go, so the next node finds them done.
 * A node waits for the lock no longer than a statement may run (statement_timeout).
 *
 * What it does not bear is the catalog changing under its introspection: to learn whether its
 * tables exist it lists every table of the database, naming each schema and table again
 * (`has_schema_privilege`, `pg_get_serial_sequence`) after reading it, so a schema or table
 * another session drops meanwhile — any schema of the database — fails the start with `schema
 * "…" does not exist` (the `has_schema_privilege` filter came with kysely-org/kysely#1550; a
 * migrator that looks at its own schema only, kysely-org/kysely#2005, is not in 0.28). Nothing
 * has changed then (a failed migration is rolled back whole), so the migrator simply runs again.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect, schema?: string): Promise<void> {
  // With a schema, name it: Kysely otherwise looks for its migration tables in any schema, and
  // would take another schema's tables (of another process on the same database) for its own.
  const migrator = new Migrator({
    db,
    provider: new StaticMigrationProvider(dialect),
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (error === undefined) return;
    const code = (error as { code?: unknown }).code;
    if (dialect === 'postgres' && catalogChanged(error, code) && attempt < MIGRATION_ATTEMPTS) continue;
    throw error instanceof Error ? error : new Error(`migration failed: ${String(error)}`);
  }
}
