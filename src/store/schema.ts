/** Table types shared by every store back end (kysely's `Database` interface). */


export interface UsersTable {
  id: string;
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url), never the password. */
  password_hash: string | null;
  is_admin: number;
  disabled: number;
  created_at: string;
  updated_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** One row per audit event of the store sink (src/store/audit.ts); `event` is the chained JSON as hashed. */
export interface AuditEventsTable {
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
}

export interface Database {
  users: UsersTable;
  gatehouse_meta: MetaTable;
  audit_events: AuditEventsTable;
}
