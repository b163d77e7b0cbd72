/**
 * API tokens and service accounts in the store (tables from migration `0004_tokens`). Every
 * function takes the store's kysely instance (`store.db`), so all back ends run the same queries.
 * No function returns a token's hash to callers outside authentication.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

export interface ServiceAccount {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly disabled: boolean;
  readonly createdAt: string;
}

export type TokenOwner =
  | { readonly kind: 'user'; readonly id: string; readonly name: string; readonly admin: boolean; readonly disabled: boolean }
  | { readonly kind: 'service_account'; readonly id: string; readonly name: string; readonly disabled: boolean };

/** A token as listed: everything but the hash. */
export interface TokenInfo {
  readonly id: string;
  readonly owner: TokenOwner;
  readonly description: string;
  readonly tenant: string | null;
  readonly maxRole: string | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** What authentication needs: the listed facts plus the hash to compare. */
export interface TokenForAuth extends TokenInfo {
  readonly secretHash: string;
}

const toServiceAccount = (r: Database['service_accounts']): ServiceAccount => ({
  id: r.id,
  name: r.name,
  description: r.description,
  disabled: r.disabled === 1,
  createdAt: r.created_at,
});

export async function createServiceAccount(db: Db, input: { name: string; description?: string; now: Date }): Promise<ServiceAccount> {
  const row = { id: randomUUID(), name: input.name, description: input.description ?? '', disabled: 0, created_at: input.now.toISOString() };
  await db.insertInto('service_accounts').values(row).execute();
  return toServiceAccount(row);
}

export async function findServiceAccount(db: Db, name: string): Promise<ServiceAccount | undefined> {
  const row = await db.selectFrom('service_accounts').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toServiceAccount(row);
}

/** Disables (or re-enables) a service account: a disabled account's tokens stop working on the next request. */
export async function setServiceAccountDisabled(db: Db, name: string, disabled: boolean): Promise<boolean> {
  const r = await db.updateTable('service_accounts').set({ disabled: disabled ? 1 : 0 }).where('name', '=', name).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Deletes a service account; its tokens go with it (foreign key cascade). False when there is none. */
export async function deleteServiceAccount(db: Db, name: string): Promise<boolean> {
  const r = await db.deleteFrom('service_accounts').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function listServiceAccounts(db: Db): Promise<ServiceAccount[]> {
  return (await db.selectFrom('service_accounts').selectAll().orderBy('name').execute()).map(toServiceAccount);
}

export interface NewToken {
  readonly id: string;
  readonly secretHash: string;
  readonly owner: { readonly userId: string } | { readonly serviceAccountId: string };
  readonly description?: string;
  readonly tenant?: string | undefined;
  readonly maxRole?: string | undefined;
  readonly expiresAt?: Date | undefined;
  readonly now: Date;
}

export async function insertToken(db: Db, t: NewToken): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      id: t.id,
      user_id: 'userId' in t.owner ? t.owner.userId : null,
      service_account_id: 'serviceAccountId' in t.owner ? t.owner.serviceAccountId : null,
      secret_hash: t.secretHash,
      description: t.description ?? '',
      tenant: t.tenant ?? null,
      max_role: t.maxRole ?? null,
      created_at: t.now.toISOString(),
      expires_at: t.expiresAt?.toISOString() ?? null,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
}

function tokensWithOwners(db: Db) {
  return db
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('service_accounts as s', 's.id', 't.service_account_id')
    .select([
      't.id', 't.secret_hash', 't.description', 't.tenant', 't.max_role', 't.created_at', 't.expires_at', 't.last_used_at', 't.revoked_at',
      't.user_id', 'u.username', 'u.is_admin', 'u.disabled as user_disabled',
      't.service_account_id', 's.name as sa_name', 's.disabled as sa_disabled',
    ]);
}

type JoinedRow = Awaited<ReturnType<ReturnType<typeof tokensWithOwners>['executeTakeFirstOrThrow']>>;

function toInfo(r: JoinedRow): TokenForAuth {
  const owner: TokenOwner =
    r.user_id !== null
      ? { kind: 'user', id: r.user_id, name: r.username ?? '', admin: r.is_admin === 1, disabled: r.user_disabled !== 0 }
      : { kind: 'service_account', id: r.service_account_id ?? '', name: r.sa_name ?? '', disabled: r.sa_disabled !== 0 };
  return {
    id: r.id,
    owner,
    description: r.description,
    tenant: r.tenant,
    maxRole: r.max_role,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    secretHash: r.secret_hash,
  };
}

/** One indexed lookup by the token's public id, with its owner. */
export async function findTokenForAuth(db: Db, id: string): Promise<TokenForAuth | undefined> {
  const row = await tokensWithOwners(db).where('t.id', '=', id).executeTakeFirst();
  return row && toInfo(row);
}

export type TokenStatus = 'revoked' | 'expired' | 'owner-disabled' | 'active';

export function tokenStatus(t: TokenInfo, now: number): TokenStatus {
  // A rotation with an overlap revokes the old token ahead of time: it works until then.
  if (t.revokedAt !== null && Date.parse(t.revokedAt) <= now) return 'revoked';
  if (t.expiresAt !== null && Date.parse(t.expiresAt) <= now) return 'expired';
  return t.owner.disabled ? 'owner-disabled' : 'active';
}

/** What the CLI and the admin API show of a token: never its secret or hash. */
export function tokenView(t: TokenInfo, now: number) {
  return {
    id: t.id,
    owner: t.owner.name,
    ownerKind: t.owner.kind,
    description: t.description,
    tenant: t.tenant,
    maxRole: t.maxRole,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    status: tokenStatus(t, now),
  };
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  const rows = await tokensWithOwners(db).orderBy('t.created_at').orderBy('t.id').execute();
  return rows.map((r) => {
    const { secretHash: _hash, ...info } = toInfo(r);
    return info;
  });
}

/**
 * Marks the token revoked (idempotent: an already revoked token keeps its first revocation time;
 * one a rotation revokes later, at its overlap's end, is revoked now).
 */
export async function revokeToken(db: Db, id: string, now: Date): Promise<boolean> {
  const exists = await db.selectFrom('api_tokens').select('id').where('id', '=', id).executeTakeFirst();
  if (!exists) return false;
  const at = now.toISOString();
  await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>', at)])).execute();
  return true;
}

/**
 * Revokes the token as of `at` (now, or later: a rotation's overlap) if nothing revoked it yet;
 * false when something did (or it does not exist), so a rotation racing another rolls back.
 */
export async function revokeUnrevokedToken(db: Db, id: string, at: Date): Promise<boolean> {
  const r = await db.updateTable('api_tokens').set({ revoked_at: at.toISOString() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touchToken(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at.toISOString() }).where('id', '=', id).execute();
}
