/**
 * What SCIM keeps in the store (migration 0013_scim): the SCIM side of provisioned users (their
 * `users` row is the store port's), SCIM groups (their members are `policy_group_members` rows
 * under the group's display name, src/store/policy.ts), SCIM bearer tokens (only their hashes) and
 * the provisioning health every replica shares. Every function takes a kysely instance, which may
 * be a service's transaction.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

export interface ScimUserRow {
  /** The user's id: its SCIM `id`. */
  readonly id: string;
  /** The Gatehouse user name (the userName it was created with; never changes). */
  readonly username: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly active: boolean;
  readonly admin: boolean;
  readonly attributes: Record<string, unknown>;
  readonly version: number;
  readonly created: string;
  readonly lastModified: string;
}

export interface ScimGroupRow {
  readonly id: string;
  readonly displayName: string;
  readonly externalId: string | null;
  readonly version: number;
  readonly created: string;
  readonly lastModified: string;
}

const usersQuery = (db: Db) =>
  db
    .selectFrom('scim_users')
    .innerJoin('users', 'users.id', 'scim_users.user_id')
    .select([
      'users.id as id',
      'users.username as username',
      'users.disabled as disabled',
      'users.is_admin as is_admin',
      'scim_users.user_name as user_name',
      'scim_users.external_id as external_id',
      'scim_users.attributes as attributes',
      'scim_users.version as version',
      'scim_users.created_at as created_at',
      'scim_users.updated_at as updated_at',
    ]);

type UserJoin = Awaited<ReturnType<ReturnType<typeof usersQuery>['executeTakeFirstOrThrow']>>;

const toUser = (r: UserJoin): ScimUserRow => ({
  id: r.id,
  username: r.username,
  userName: r.user_name,
  externalId: r.external_id,
  active: Number(r.disabled) !== 1,
  admin: Number(r.is_admin) === 1,
  attributes: JSON.parse(r.attributes) as Record<string, unknown>,
  version: Number(r.version),
  created: r.created_at,
  lastModified: r.updated_at,
});

const toGroup = (r: Database['scim_groups']): ScimGroupRow => ({
  id: r.id,
  displayName: r.display_name,
  externalId: r.external_id,
  version: Number(r.version),
  created: r.created_at,
  lastModified: r.updated_at,
});

/** SCIM users in creation order; `where` narrows to one indexed column when a filter allows it. */
export async function listScimUsers(db: Db, where?: { readonly id?: string; readonly userNameKey?: string; readonly externalId?: string }): Promise<ScimUserRow[]> {
  let q = usersQuery(db);
  if (where?.id !== undefined) q = q.where('users.id', '=', where.id);
  if (where?.userNameKey !== undefined) q = q.where('scim_users.user_name_key', '=', where.userNameKey);
  if (where?.externalId !== undefined) q = q.where('scim_users.external_id', '=', where.externalId);
  return (await q.orderBy('scim_users.created_at').orderBy('users.id').execute()).map(toUser);
}

export async function insertScimUser(db: Db, row: { userId: string; userName: string; externalId: string | null; attributes: Record<string, unknown>; now: string }): Promise<void> {
  await db
    .insertInto('scim_users')
    .values({
      user_id: row.userId,
      user_name: row.userName,
      user_name_key: row.userName.toLowerCase(),
      external_id: row.externalId,
      attributes: JSON.stringify(row.attributes),
      version: 1,
      created_at: row.now,
      updated_at: row.now,
    })
    .execute();
}

/** Writes the SCIM side of a user and bumps its version. */
export async function updateScimUser(db: Db, userId: string, row: { userName: string; externalId: string | null; attributes: Record<string, unknown>; now: string }): Promise<void> {
  await db
    .updateTable('scim_users')
    .set((eb) => ({
      user_name: row.userName,
      user_name_key: row.userName.toLowerCase(),
      external_id: row.externalId,
      attributes: JSON.stringify(row.attributes),
      version: eb('version', '+', 1),
      updated_at: row.now,
    }))
    .where('user_id', '=', userId)
    .execute();
}

/** Marks the SCIM side of a user changed (its `active` flag lives on the users row). */
export async function touchScimUser(db: Db, userId: string, now: string): Promise<void> {
  await db
    .updateTable('scim_users')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('user_id', '=', userId)
    .execute();
}

export async function listScimGroups(db: Db, where?: { readonly id?: string; readonly displayKey?: string }): Promise<ScimGroupRow[]> {
  let q = db.selectFrom('scim_groups').selectAll();
  if (where?.id !== undefined) q = q.where('id', '=', where.id);
  if (where?.displayKey !== undefined) q = q.where('display_key', '=', where.displayKey);
  return (await q.orderBy('created_at').orderBy('id').execute()).map(toGroup);
}

export async function insertScimGroup(db: Db, row: { id: string; displayName: string; externalId: string | null; now: string }): Promise<void> {
  await db
    .insertInto('scim_groups')
    .values({ id: row.id, display_name: row.displayName, display_key: row.displayName.toLowerCase(), external_id: row.externalId, version: 1, created_at: row.now, updated_at: row.now })
    .execute();
}

export async function updateScimGroup(db: Db, id: string, row: { displayName: string; externalId: string | null; now: string }): Promise<void> {
  await db
    .updateTable('scim_groups')
    .set((eb) => ({ display_name: row.displayName, display_key: row.displayName.toLowerCase(), external_id: row.externalId, version: eb('version', '+', 1), updated_at: row.now }))
    .where('id', '=', id)
    .execute();
}

export async function deleteScimGroup(db: Db, id: string): Promise<void> {
  await db.deleteFrom('scim_groups').where('id', '=', id).execute();
}

/** Moves a group's member rows to a new name (a SCIM group renamed). */
export async function renameGroupMembers(db: Db, from: string, to: string): Promise<void> {
  await db.updateTable('policy_group_members').set({ group_name: to }).where('group_name', '=', from).execute();
}

/** Every member row of these groups (by name). */
export async function groupMembers(db: Db, names: readonly string[]): Promise<{ group: string; member: string }[]> {
  if (names.length === 0) return [];
  const rows = await db.selectFrom('policy_group_members').selectAll().where('group_name', 'in', names).orderBy('group_name').orderBy('member').execute();
  return rows.map((r) => ({ group: r.group_name, member: r.member }));
}

/** Whether a group of this name is a SCIM group (its membership is managed by SCIM). */
export async function isScimGroup(db: Db, name: string): Promise<boolean> {
  return (await db.selectFrom('scim_groups').select('id').where('display_name', '=', name).executeTakeFirst()) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// SCIM bearer tokens

export interface ScimTokenInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

const toToken = (r: Database['scim_tokens']): ScimTokenInfo => ({ id: r.id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at });

export async function insertScimToken(db: Db, row: { id: string; name: string; secretHash: string; now: string; expiresAt: string | null }): Promise<void> {
  await db.insertInto('scim_tokens').values({ id: row.id, name: row.name, secret_hash: row.secretHash, created_at: row.now, expires_at: row.expiresAt, revoked_at: null, last_used_at: null }).execute();
}

export async function listScimTokens(db: Db): Promise<ScimTokenInfo[]> {
  return (await db.selectFrom('scim_tokens').selectAll().orderBy('name').orderBy('created_at').execute()).map(toToken);
}

/** What the SCIM door's authentication needs: the listed facts and the hash to compare. */
export async function findScimTokenForAuth(db: Db, id: string): Promise<(ScimTokenInfo & { readonly secretHash: string }) | undefined> {
  const r = await db.selectFrom('scim_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return r && { ...toToken(r), secretHash: r.secret_hash };
}

export async function revokeScimToken(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('scim_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function touchScimToken(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('scim_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

// ---------------------------------------------------------------------------------------------
// Provisioning health (shared by every replica)

export interface ScimActivity {
  readonly at: string;
  readonly method: string;
  /** `/Users`, `/Users/{id}`, `/Groups`, ... (ids are not kept). */
  readonly resource: string;
  readonly status: number;
  /** The SCIM token's name; null when the request carried none that is valid. */
  readonly client: string | null;
  /** For errors: the SCIM `scimType` and `detail` (never a credential). */
  readonly scimType?: string | null;
  readonly detail?: string;
}

export async function recordScimActivity(db: Db, key: 'scim_last_request' | 'scim_last_error', activity: ScimActivity): Promise<void> {
  await db.updateTable('gatehouse_meta').set({ value: JSON.stringify(activity) }).where('key', '=', key).execute();
}

export async function scimActivity(db: Db): Promise<{ lastRequest: ScimActivity | null; lastError: ScimActivity | null }> {
  const rows = await db.selectFrom('gatehouse_meta').select(['key', 'value']).where('key', 'in', ['scim_last_request', 'scim_last_error']).execute();
  const value = (key: string) => JSON.parse(rows.find((r) => r.key === key)?.value ?? 'null') as ScimActivity | null;
  return { lastRequest: value('scim_last_request'), lastError: value('scim_last_error') };
}

export async function scimCounts(db: Db): Promise<{ users: { active: number; inactive: number }; groups: number; memberships: number }> {
  const users = await db.selectFrom('scim_users').innerJoin('users', 'users.id', 'scim_users.user_id').select(['users.disabled as disabled']).execute();
  const groups = await db.selectFrom('scim_groups').select('display_name').execute();
  const members = await groupMembers(db, groups.map((g) => g.display_name));
  const inactive = users.filter((u) => Number(u.disabled) === 1).length;
  return { users: { active: users.length - inactive, inactive }, groups: groups.length, memberships: members.length };
}
