/** Table types shared by every store back end (kysely's `Database` interface). */
import type { ColumnType } from 'kysely';


export interface UsersTable {
  id: string;
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url), never the password. */
  password_hash: string | null;
  is_admin: number;
  disabled: number;
  created_at: string;
  updated_at: string;
  /** Epoch ms after which the password no longer works (a break-glass password); null: never. */
  password_expires_at: number | null;
  /** `scim` for a user provisioned by SCIM (src/services/scim.ts), whose managed fields other doors cannot change; null otherwise. */
  managed_by: string | null;
}

/** What SCIM says of a user beyond its `users` row (migration 0013_scim). */
export interface ScimUsersTable {
  user_id: string;
  /** The current SCIM userName (the row's `username` is the one it was created with). */
  user_name: string;
  /** `user_name` in lower case: userName is unique and compared case-insensitively (RFC 7643 §4.1.1). */
  user_name_key: string;
  external_id: string | null;
  /** The other attributes (name, emails, the enterprise extension, ...) as JSON. */
  attributes: string;
  /** Bumped by every change: `meta.version` and the ETag (RFC 7644 §3.14). */
  version: number;
  created_at: string;
  updated_at: string;
}

/** SCIM groups; their members are `policy_group_members` rows under `display_name`. */
export interface ScimGroupsTable {
  id: string;
  display_name: string;
  /** `display_name` in lower case (unique, compared case-insensitively). */
  display_key: string;
  external_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** SCIM bearer tokens: only the SHA-256 of the token is kept. */
export interface ScimTokensTable {
  /** The public id embedded in the token. */
  id: string;
  /** The SCIM client it is for (the actor of its changes); rotation adds a row of the same name. */
  name: string;
  secret_hash: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** One row per audit event of the store sink (src/store/audit.ts); `event` is the chained JSON as hashed. */
export interface AuditEventsTable {
  /** The hash chain (a replica id, `audit.replicaId`; `default` for events before 0008_audit_chains). */
  chain: string;
  seq: number;
  time: string;
  request_id: string;
  phase: string;
  principal_id: string | null;
  tenant: string | null;
  operation: string | null;
  /** `allow`, `deny`, or null when no decision was made. */
  decision: string | null;
  outcome: string;
  status: number | null;
  event: string;
  hash: string;
  /** `request` or `admin` (src/audit/admin-event.ts); rows before 0009_admin_audit are `request`. The event JSON of a request has no `type`. */
  type: ColumnType<string, string | undefined, string>;
  /** Admin events: what changed, as `<kind>:<id>` (`user:alice`); null for request events. */
  target: ColumnType<string | null, string | null | undefined, string | null>;
  /** Admin events: the door (`api`, `cli`, ...); null for request events. */
  door: ColumnType<string | null, string | null | undefined, string | null>;
}

/** CLI admin events waiting for a running gateway to put them in its audit chains (src/audit/journal.ts). */
export interface AuditJournalTable {
  /** Orders the journal with `created_at`: `<created_at, 15 digits>-<uuid>`. */
  id: string;
  created_at: number;
  /** The admin event (JSON), not yet chained. */
  event: string;
  /** The gateway process moving it now, and since when (ms); null while nobody is. */
  claimed_by: string | null;
  claimed_at: number | null;
}

/** Browser sessions and pending logins (src/store/sessions.ts); times are epoch milliseconds. */
export interface SessionsTable {
  /** SHA-256 (base64url) of the session id; the id itself is never stored. */
  id_hash: string;
  /** `user` (a logged-in session) or `pending` (a login in progress: CSRF token, OIDC state). */
  kind: string;
  principal_id: string | null;
  /** The principal as JSON (user sessions). */
  principal: string | null;
  /** Kind-specific JSON (CSRF token, OIDC flow, ID token for logout). */
  data: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** A service account: a non-human principal (`kind: service_account`) that holds API tokens. */
export interface ServiceAccountsTable {
  id: string;
  name: string;
  description: string;
  disabled: number;
  created_at: string;
}

/** An API token (src/store/tokens.ts). Only the SHA-256 of the token is kept, never the token. */
export interface ApiTokensTable {
  /** The public id embedded in the token, used to find the row. */
  id: string;
  /** Owner: exactly one of user_id (personal token) and service_account_id. */
  user_id: string | null;
  service_account_id: string | null;
  /** SHA-256 of the whole token string (base64url). */
  secret_hash: string;
  description: string;
  /** Narrowing: only this tenant; grants capped to this role. */
  tenant: string | null;
  max_role: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Who created an experiment or registered model: creators get MANAGE on it. */
export interface ResourceOwnersTable {
  tenant: string;
  /** `experiment` (resource = experiment id) or `registered_model` (resource = name). */
  kind: string;
  resource: string;
  principal_id: string;
  created_at: string;
}

/** Tenants, groups, roles and bindings made through the CLI or admin API (config-declared ones live in YAML). */
export interface PolicyTenantsTable {
  name: string;
  default_role: string | null;
  created_at: string;
}
export interface PolicyTenantMembersTable {
  tenant: string;
  /** `user` or `group`. */
  kind: string;
  name: string;
}
export interface PolicyGroupMembersTable {
  group_name: string;
  member: string;
}
export interface PolicyRolesTable {
  name: string;
  description: string;
  /** JSON: family → level. */
  levels: string;
  /** JSON: operation ids. */
  operations: string;
  /** JSON: families. */
  creates: string;
}
export interface PolicyBindingsTable {
  id: string;
  role: string;
  effect: string;
  /** `user`, `group` or `service_account`. */
  subject_kind: string;
  subject_name: string;
  tenant: string | null;
  experiment_id: string | null;
  experiment_pattern: string | null;
  model_pattern: string | null;
  created_at: string;
  created_by: string;
}

/** MLflow 3.18's named roles (src/store/mlflow-roles.ts). */
export interface MlflowRolesTable {
  id: number;
  workspace: string;
  name: string;
  description: string | null;
}
/** A permission of an MLflow role, and the binding that enforces it. */
export interface MlflowRolePermissionsTable {
  id: number;
  role_id: number;
  resource_type: string;
  resource_pattern: string;
  permission: string;
  binding_id: string;
}

export interface Database {
  policy_tenants: PolicyTenantsTable;
  policy_tenant_members: PolicyTenantMembersTable;
  policy_group_members: PolicyGroupMembersTable;
  policy_roles: PolicyRolesTable;
  policy_bindings: PolicyBindingsTable;
  resource_owners: ResourceOwnersTable;
  service_accounts: ServiceAccountsTable;
  api_tokens: ApiTokensTable;
  users: UsersTable;
  scim_users: ScimUsersTable;
  scim_groups: ScimGroupsTable;
  scim_tokens: ScimTokensTable;
  gatehouse_meta: MetaTable;
  audit_events: AuditEventsTable;
  audit_journal: AuditJournalTable;
  sessions: SessionsTable;
  saml_assertions: SamlAssertionsTable;
  user_identities: UserIdentitiesTable;
  user_emails: UserEmailsTable;
  mlflow_roles: MlflowRolesTable;
  mlflow_role_permissions: MlflowRolePermissionsTable;
  approvals: ApprovalsTable;
  approval_votes: ApprovalVotesTable;
}

/** A local user's email address (lower case) for `link: email` (src/store/identities.ts). */
export interface UserEmailsTable {
  user_id: string;
  email: string;
}

/** IdP identities linked to local users (src/store/identities.ts). */
export interface UserIdentitiesTable {
  /** `<provider id>:<subject>`, the principal id the provider establishes. */
  identity: string;
  user_id: string;
  created_at: string;
}

/** SAML assertion ids used to sign in (src/store/saml-replay.ts), `<provider>:<ID>`, until `expires_at` (epoch ms). */
export interface SamlAssertionsTable {
  id: string;
  expires_at: number;
}

/** An MLflow call held for approval (migration 0017_approvals, src/store/approvals.ts). */
export interface ApprovalsTable {
  id: string;
  tenant: string | null;
  rule: string;
  required: number;
  self_approval: number;
  principal_id: string;
  /** The requester as authenticated (JSON), decided again before execution. */
  principal: string;
  op: string;
  /** The engine's input for the call (JSON, src/policy/access-request.ts). */
  access_request: string;
  method: string;
  path: string;
  /** The headers MLflow would have received (JSON). */
  headers: string;
  /** The body bytes (base64); null: none. */
  body: string | null;
  body_hash: string;
  /** What the call would do, for approvers (JSON). */
  summary: string;
  status: string;
  created_at: number;
  expires_at: number;
  result_status: number | null;
  result_body: string | null;
  finished_at: number | null;
}

export interface ApprovalVotesTable {
  approval_id: string;
  approver: string;
  decision: string;
  comment: string | null;
  at: number;
}
