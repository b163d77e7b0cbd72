/**
 * One migration set for every store back end, written with kysely's schema builder.
 *
 * Portable column types only: `text`, `integer` (booleans are 0/1 on both back ends), `bigint`
 * (epoch milliseconds; the PostgreSQL pool parses int8 as a number, src/store/postgres.ts), no
 * autoincrement, JSON as `text`. Two columns differ by back end, through the helpers below.
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const isPostgres = (db: { getExecutor(): { readonly adapter: unknown } }): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Text compared or ordered as a string (ISO 8601 times, names). SQLite compares bytes; a
 * PostgreSQL database's default collation may not (en_US ignores punctuation at the first
 * level), so on PostgreSQL these columns use the byte-order "C" collation: same order, same
 * range results on both back ends. SQLite's own behaviour is unchanged.
 */
const orderedText = (db: Kysely<unknown>) => (isPostgres(db) ? sql`text collate "C"` : 'text');
/** A 64-bit integer key. On SQLite `integer primary key` is the 64-bit rowid (kept as it was); PostgreSQL's `integer` is 32-bit. */
const int64 = (db: Kysely<unknown>) => (isPostgres(db) ? 'bigint' : 'integer');

export const MIGRATIONS: Record<string, Migration> = {
  '0001_users': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', orderedText(db), (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gatehouse_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into gatehouse_meta (key, value) values ('schema', 'gatehouse')`.execute(db);
    },
  },
  '0003_audit': {
    async up(db: Kysely<unknown>) {
      // The audit sink's hash chain: seq is the chain position, event the exact JSON that was hashed.
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', int64(db), (c) => c.primaryKey())
        .addColumn('time', orderedText(db), (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text')
        .addColumn('tenant', 'text')
        .addColumn('operation', 'text')
        .addColumn('decision', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      for (const column of ['time', 'principal_id', 'tenant', 'operation', 'request_id']) {
        await db.schema.createIndex(`audit_events_${column}`).on('audit_events').column(column).execute();
      }
    },
  },
  '0005_sessions': {
    async up(db: Kysely<unknown>) {
      // Browser sessions (src/store/sessions.ts). The id is never stored, only its SHA-256.
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text')
        .addColumn('principal', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
      await db.schema.createIndex('sessions_principal_id').on('sessions').column('principal_id').execute();
    },
  },
  '0004_tokens': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('service_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', orderedText(db), (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // Tokens are found by their public id and checked against secret_hash; the token itself is never stored.
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('service_account_id', 'text', (c) => c.references('service_accounts.id').onDelete('cascade'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('tenant', 'text')
        .addColumn('max_role', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .addCheckConstraint('api_tokens_one_owner', sql`(user_id is null) <> (service_account_id is null)`)
        .execute();
      await db.schema.createIndex('api_tokens_user_id').on('api_tokens').column('user_id').execute();
      await db.schema.createIndex('api_tokens_service_account_id').on('api_tokens').column('service_account_id').execute();
    },
  },
  '0006_ownership': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('resource_owners')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('resource_owners_pk', ['tenant', 'kind', 'resource'])
        .execute();
      await db.schema.createIndex('resource_owners_principal').on('resource_owners').column('principal_id').execute();
    },
  },
  '0007_policy': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('policy_tenants')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('default_role', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('policy_tenant_members')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_tenant_members_pk', ['tenant', 'kind', 'name'])
        .execute();
      await db.schema
        .createTable('policy_group_members')
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('member', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_group_members_pk', ['group_name', 'member'])
        .execute();
      await db.schema
        .createTable('policy_roles')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('levels', 'text', (c) => c.notNull())
        .addColumn('operations', 'text', (c) => c.notNull())
        .addColumn('creates', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('policy_bindings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('effect', 'text', (c) => c.notNull())
        .addColumn('subject_kind', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text')
        .addColumn('experiment_id', 'text')
        .addColumn('experiment_pattern', 'text')
        .addColumn('model_pattern', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into gatehouse_meta (key, value) values ('policy_version', '0')`.execute(db);
    },
  },
  '0008_audit_chains': {
    async up(db: Kysely<unknown>) {
      // One hash chain per replica: the key becomes (chain, seq). Neither back end can change a
      // primary key in place (SQLite cannot at all), so the table is rebuilt; events written
      // before keep their seq in the `default` chain. Index names are global: drop, then reuse.
      const indexed = ['time', 'principal_id', 'tenant', 'operation', 'request_id'];
      for (const column of indexed) await db.schema.dropIndex(`audit_events_${column}`).execute();
      await db.schema.alterTable('audit_events').renameTo('audit_events_0003').execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('chain', orderedText(db), (c) => c.notNull())
        .addColumn('seq', int64(db), (c) => c.notNull())
        .addColumn('time', orderedText(db), (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text')
        .addColumn('tenant', 'text')
        .addColumn('operation', 'text')
        .addColumn('decision', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_events_chain_seq', ['chain', 'seq'])
        .execute();
      await sql`insert into audit_events (chain, seq, time, request_id, phase, principal_id, tenant, operation, decision, outcome, status, event, hash)
        select 'default', seq, time, request_id, phase, principal_id, tenant, operation, decision, outcome, status, event, hash from audit_events_0003`.execute(db);
      await db.schema.dropTable('audit_events_0003').execute();
      for (const column of indexed) await db.schema.createIndex(`audit_events_${column}`).on('audit_events').column(column).execute();
    },
  },
  '0009_admin_audit': {
    async up(db: Kysely<unknown>) {
      // Admin events share the table with request events (src/audit/admin-event.ts): `type` tells
      // them apart, `target` (`user:alice`) and `door` are what the admin audit is queried by.
      await db.schema.alterTable('audit_events').addColumn('type', 'text', (c) => c.notNull().defaultTo('request')).execute();
      await db.schema.alterTable('audit_events').addColumn('target', 'text').execute();
      await db.schema.alterTable('audit_events').addColumn('door', 'text').execute();
      for (const column of ['type', 'target']) await db.schema.createIndex(`audit_events_${column}`).on('audit_events').column(column).execute();
      // Admin events of the CLI, a process without the gateway's auditor: a running gateway moves
      // them into its own chains (src/audit/journal.ts). `claimed_*` keep two replicas apart.
      await db.schema
        .createTable('audit_journal')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_at', 'bigint')
        .execute();
      await db.schema.createIndex('audit_journal_created_at').on('audit_journal').column('created_at').execute();
    },
  },
  '0010_users_version': {
    async up(db: Kysely<unknown>) {
      // Bumped by every change to a local user (src/store/store.ts); replicas poll it to drop
      // remembered password checks of changed users without Redis (src/identity/local-basic.ts).
      await sql`insert into gatehouse_meta (key, value) values ('users_version', '0')`.execute(db);
    },
  },
  '0011_saml_assertions': {
    async up(db: Kysely<unknown>) {
      // SAML assertion ids already used to sign in, until they expire (src/store/saml-replay.ts):
      // shared by every replica through the store, so a response replayed to another one fails too.
      await db.schema
        .createTable('saml_assertions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('saml_assertions_expires_at').on('saml_assertions').column('expires_at').execute();
    },
  },
  '0012_password_expiry': {
    async up(db: Kysely<unknown>) {
      // A break-glass password (`gatehouse admin restore`) works until then (epoch ms); null: no expiry.
      await db.schema.alterTable('users').addColumn('password_expires_at', 'bigint').execute();
    },
  },
  '0013_scim': {
    async up(db: Kysely<unknown>) {
      // A user provisioned by SCIM is a user row marked `managed_by = 'scim'` (src/services/scim-users.ts).
      await db.schema.alterTable('users').addColumn('managed_by', 'text').execute();
      // What SCIM says of a user beyond the row: its current userName (the row's username is the
      // name it was created with and never changes), externalId and other attributes (JSON).
      await db.schema
        .createTable('scim_users')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_name_key', orderedText(db), (c) => c.notNull().unique())
        .addColumn('external_id', 'text')
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('scim_users_external_id').on('scim_users').column('external_id').execute();
      // SCIM groups; their members are rows of policy_group_members under display_name.
      await db.schema
        .createTable('scim_groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('display_name', orderedText(db), (c) => c.notNull().unique())
        .addColumn('display_key', orderedText(db), (c) => c.notNull().unique())
        .addColumn('external_id', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // SCIM bearer tokens (src/store/scim.ts): only the SHA-256 of a token is kept. Several rows
      // share a name while a rotation's overlap lasts.
      await db.schema
        .createTable('scim_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', orderedText(db), (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('scim_tokens_name').on('scim_tokens').column('name').execute();
      // Provisioning health, shared by every replica: the last request and the last refusal (JSON).
      await sql`insert into gatehouse_meta (key, value) values ('scim_last_request', 'null'), ('scim_last_error', 'null')`.execute(db);
    },
  },
  '0014_user_identities': {
    async up(db: Kysely<unknown>) {
      // An IdP identity (`<provider id>:<subject>`) an operator linked to a local user
      // (src/store/identities.ts, auth.providers[].link: subject). One user per identity; the links
      // go with the user (foreign key cascade).
      await db.schema
        .createTable('user_identities')
        .addColumn('identity', orderedText(db), (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('user_identities_user_id').on('user_identities').column('user_id').execute();
    },
  },
  '0015_user_emails': {
    async up(db: Kysely<unknown>) {
      // A local user's email address, as an administrator set it (lower case): with
      // auth.providers[].link: email, a sign-in with that verified email is the user.
      await db.schema
        .createTable('user_emails')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('email', orderedText(db), (c) => c.notNull().unique())
        .execute();
    },
  },
  '0016_mlflow_roles': {
    async up(db: Kysely<unknown>) {
      // MLflow 3.18's named roles (src/services/mlflow-roles.ts): MLflow's integer ids, name and
      // workspace. A role's members are the local group `mlflow-role-<id>`; each permission row
      // names the Gatehouse binding (on that group) that enforces it.
      await db.schema
        .createTable('mlflow_roles')
        .addColumn('id', 'bigint', (c) => c.primaryKey())
        .addColumn('workspace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addUniqueConstraint('mlflow_roles_workspace_name', ['workspace', 'name'])
        .execute();
      await db.schema
        .createTable('mlflow_role_permissions')
        .addColumn('id', 'bigint', (c) => c.primaryKey())
        .addColumn('role_id', 'bigint', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_pattern', 'text', (c) => c.notNull())
        .addColumn('permission', 'text', (c) => c.notNull())
        .addColumn('binding_id', 'text', (c) => c.notNull())
        .addUniqueConstraint('mlflow_role_permissions_resource', ['role_id', 'resource_type', 'resource_pattern'])
        .execute();
    },
  },
  '0017_approvals': {
    async up(db: Kysely<unknown>) {
      // MLflow calls held for approval (src/store/approvals.ts): the exact call as it would have
      // been forwarded (method, path with query, headers, body) with a hash of it, who asked in
      // which tenant, and its state. `status` moves pending → executing → executed (or
      // denied / expired / refused) by conditional updates, so one replica executes it.
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text')
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('required', 'integer', (c) => c.notNull())
        .addColumn('self_approval', 'integer', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('op', 'text', (c) => c.notNull())
        .addColumn('access_request', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('body', 'text')
        .addColumn('body_hash', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('result_status', 'integer')
        .addColumn('result_body', 'text')
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('approvals_status_tenant').on('approvals').columns(['status', 'tenant']).execute();
      await db.schema
        .createTable('approval_votes')
        .addColumn('approval_id', 'text', (c) => c.notNull().references('approvals.id').onDelete('cascade'))
        .addColumn('approver', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('approval_votes_pk', ['approval_id', 'approver'])
        .execute();
    },
  },
};
