/**
 * IdP identities linked to local users (migration `0014_user_identities`) and local users' email
 * addresses (`0015_user_emails`): with `auth.providers[].link: subject`, a sign-in as
 * `<provider id>:<subject>` is the local user the identity is linked to; with `link: email`, a
 * sign-in with a verified email is the local user of that email (src/identity/link.ts). Every
 * function takes the store's kysely instance.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** The local user an identity is linked to, as the sign-in needs it. */
export interface LinkedUser {
  readonly username: string;
  readonly admin: boolean;
  readonly disabled: boolean;
}

export async function linkedUser(db: Db, identity: string): Promise<LinkedUser | undefined> {
  const row = await db
    .selectFrom('user_identities')
    .innerJoin('users', 'users.id', 'user_identities.user_id')
    .select(['users.username', 'users.is_admin', 'users.disabled'])
    .where('user_identities.identity', '=', identity)
    .executeTakeFirst();
  return row && { username: row.username, admin: row.is_admin === 1, disabled: row.disabled === 1 };
}

/** A user's linked identities, sorted. */
export async function identitiesOf(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_identities').select('identity').where('user_id', '=', userId).orderBy('identity').execute();
  return rows.map((r) => r.identity);
}

export async function insertIdentity(db: Db, userId: string, identity: string, now: Date): Promise<void> {
  await db.insertInto('user_identities').values({ identity, user_id: userId, created_at: now.toISOString() }).execute();
}

/** Whether a link was removed. */
export async function deleteIdentity(db: Db, userId: string, identity: string): Promise<boolean> {
  const r = await db.deleteFrom('user_identities').where('user_id', '=', userId).where('identity', '=', identity).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The local user whose email is `email` (compared in lower case). */
export async function userOfEmail(db: Db, email: string): Promise<LinkedUser | undefined> {
  const row = await db
    .selectFrom('user_emails')
    .innerJoin('users', 'users.id', 'user_emails.user_id')
    .select(['users.username', 'users.is_admin', 'users.disabled'])
    .where('user_emails.email', '=', email.toLowerCase())
    .executeTakeFirst();
  return row && { username: row.username, admin: row.is_admin === 1, disabled: row.disabled === 1 };
}

export async function emailOf(db: Db, userId: string): Promise<string | null> {
  return (await db.selectFrom('user_emails').select('email').where('user_id', '=', userId).executeTakeFirst())?.email ?? null;
}

/** Sets (lower case) or clears a user's email. */
export async function setEmail(db: Db, userId: string, email: string | null): Promise<void> {
  await db.deleteFrom('user_emails').where('user_id', '=', userId).execute();
  if (email !== null) await db.insertInto('user_emails').values({ user_id: userId, email: email.toLowerCase() }).execute();
}
