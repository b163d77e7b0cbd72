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

export interface Database {
  users: UsersTable;
  gatehouse_meta: MetaTable;
}
