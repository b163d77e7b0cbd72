/**
 * Local users. The rules every door gets from here, written once:
 *
 * - keep an admin: a change that would leave no enabled platform administrator among local users
 *   (by their flag, or by a global admin grant naming them) is refused — demoting, disabling and
 *   deleting alike. The check runs inside the change's transaction (on PostgreSQL under an
 *   advisory lock), so two concurrent changes cannot each leave the other one as the last.
 * - a disabled, demoted or re-passworded user's browser sessions end in the same transaction; its
 *   tokens stop on their next use (the token provider reads the owner on every request); cached
 *   password checks are forgotten here and announced to other gateways (Redis); every gateway also
 *   re-confirms them once the store's users version moves, which the store bumps in the change's
 *   own transaction (src/store/store.ts, src/identity/local-basic.ts), with or without Redis.
 * - deleting a user removes, in one transaction, what names it: its stored grants, its local group
 *   and tenant member entries (as the policy engine reads them, src/services/grants.ts
 *   `entriesNaming`), its tokens and its sessions. A new user of the same name starts with nothing.
 *
 * - a user SCIM provisioned (`managedBy: 'scim'`) is enabled, disabled and deleted only through
 *   the SCIM door (src/services/scim.ts): any other door gets a 409 naming SCIM. Its admin flag
 *   stays Gatehouse's: SCIM never makes an administrator.
 *
 * A generated password is returned once; no view carries a hash.
 *
 * Break-glass (`restore`, `gatehouse admin restore`): when no administrator can sign in, the CLI
 * re-enables or creates one straight on the store with a one-time password that expires. Its
 * admin event is written to the store's audit journal inside the change's own transaction, whatever
 * `audit.sinks` says: if the event cannot be written, nothing changes.
 */
import { sql } from 'kysely';
import { changesOf, SECRET_SET } from '../audit/admin-event.ts';
import { generatePassword, hashPassword, passwordProblems } from '../identity/password.ts';
import { isAdmin } from '../policy/engine.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import { isPostgres } from '../store/migrations.ts';
import { revokeSessionsOf } from '../store/sessions.ts';
import type { Store, User } from '../store/store.ts';
import { listTokens } from '../store/tokens.ts';
import { writeJournal } from '../audit/journal.ts';
import { adminEventOf, policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, invalid, lastAdmin, managedByScim, notFound } from './errors.ts';
import { entriesNaming, userPrincipals, userSessionOwners } from './principals.ts';

export const USERNAME = /^[A-Za-z0-9._@-]{1,128}$/;
/** Serializes changes that could remove the last administrator (PostgreSQL; SQLite has one writer). */
const ADMIN_LOCK_KEY = 0x47617465_61646d6en;

export interface UserView {
  readonly username: string;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
}

export const userView = (u: User): UserView => ({ username: u.username, admin: u.admin, disabled: u.disabled, hasPassword: u.passwordHash !== null });

/** A user's fields as admin events record them (the password only as whether one is set). */
const fieldsOf = (u: User) => ({ username: u.username, admin: u.admin, disabled: u.disabled, password: u.passwordHash === null ? null : SECRET_SET });

export interface NewUser {
  readonly username: string;
  /** Omitted (and no `passwordHash`): one is generated and returned once. */
  readonly password?: string | undefined;
  /** An existing hash (the importer: werkzeug hashes keep working), or null for no password at all. */
  readonly passwordHash?: string | null | undefined;
  readonly admin?: boolean | undefined;
  /** `scim`: provisioned by the SCIM door (only that door may say so). */
  readonly managedBy?: 'scim' | undefined;
}

/** What only the SCIM door may change on a user SCIM provisioned. */
function mustNotBeManaged(actor: Actor, user: User): void {
  if (user.managedBy === 'scim' && actor.door !== 'scim') throw managedByScim(`user ${user.username}`);
}

export function usersService(deps: ServiceDeps) {
  const { store } = deps;
  const mustFind = async (name: string, from: Store = store) => (await from.findUserByName(name)) ?? Promise.reject(notFound(`user ${name}`));

  async function hashOf(password: string): Promise<string> {
    const problems = passwordProblems(password);
    if (problems.length > 0) throw invalid('password', problems.join(', '));
    if (!deps.providers.scrypt) throw conflict('no local identity provider is configured (auth.providers type: local)');
    return hashPassword(password, deps.providers.scrypt);
  }

  async function enabledAdmins(tx: Store, snapshot: PolicySnapshot): Promise<string[]> {
    return (await tx.listUsers()).filter((u) => !u.disabled && userPrincipals(deps.providers, u).some((p) => isAdmin(snapshot, p) !== undefined)).map((u) => u.username);
  }

  /** Runs a change to users in one transaction that fails when it would leave no enabled administrator. */
  async function keepingAnAdmin<T>(change: (tx: Store) => Promise<T>): Promise<T> {
    const snapshot = (await policyView(deps)).snapshot();
    return store.transaction(async (tx) => {
      if (isPostgres(tx.db)) await sql`select pg_advisory_xact_lock(${sql.lit(ADMIN_LOCK_KEY)})`.execute(tx.db);
      const before = await enabledAdmins(tx, snapshot);
      const out = await change(tx);
      if (before.length > 0 && (await enabledAdmins(tx, snapshot)).length === 0) throw lastAdmin();
      return out;
    });
  }

  /** Inside a change: the user's sessions end. */
  async function endSessions(tx: Store, user: User): Promise<number> {
    return revokeSessionsOf(tx.db, userSessionOwners(deps.providers, user));
  }

  return {
    async list(): Promise<UserView[]> {
      return (await store.listUsers()).map(userView);
    },

    async get(name: string): Promise<UserView> {
      return userView(await mustFind(name));
    },

    /** Creates a user; `within` runs in the same transaction (the SCIM side of a provisioned user). */
    async create(actor: Actor, input: NewUser, within?: (tx: Store, user: User) => Promise<void>): Promise<{ user: UserView; generatedPassword?: string }> {
      if (!USERNAME.test(input.username)) throw invalid('username', 'letters, digits and . _ @ - (at most 128)');
      if (input.managedBy !== undefined && actor.door !== 'scim') throw invalid('managedBy', 'only the SCIM door provisions SCIM users');
      if (await store.findUserByName(input.username)) throw conflict(`user ${input.username} already exists`);
      const generated = input.password === undefined && input.passwordHash === undefined ? generatePassword() : undefined;
      const plain = input.password ?? generated;
      const passwordHash = plain !== undefined ? await hashOf(plain) : (input.passwordHash ?? null);
      const row = { username: input.username, passwordHash, admin: input.admin ?? false, ...(input.managedBy && { managedBy: input.managedBy }) };
      const user = await store.transaction(async (tx) => {
        const u = await tx.createUser(row);
        await within?.(tx, u);
        return u;
      });
      await recordChange(deps, actor, { action: 'user.create', target: { kind: 'user', id: user.username }, changes: changesOf(null, fieldsOf(user)) });
      return { user: userView(user), ...(generated !== undefined && { generatedPassword: generated }) };
    },

    /** Makes a user a platform administrator or not, disables or re-enables it. */
    async update(actor: Actor, name: string, change: { readonly admin?: boolean | undefined; readonly disabled?: boolean | undefined }): Promise<UserView> {
      const { before, after } = await keepingAnAdmin(async (tx) => {
        const before = await mustFind(name, tx);
        if (change.disabled !== undefined && change.disabled !== before.disabled) mustNotBeManaged(actor, before);
        if (change.admin !== undefined && change.admin !== before.admin) await tx.setAdmin(before.username, change.admin);
        if (change.disabled !== undefined && change.disabled !== before.disabled) await tx.setDisabled(before.username, change.disabled);
        const after = await mustFind(name, tx);
        // A demoted or disabled user's sessions carry what it was: they end with the change.
        if (after.admin !== before.admin || after.disabled !== before.disabled) await endSessions(tx, before);
        return { before, after };
      });
      const changes = changesOf(fieldsOf(before), fieldsOf(after));
      if (Object.keys(changes).length > 0) {
        await deps.principalChanged(after.username);
        await recordChange(deps, actor, { action: 'user.update', target: { kind: 'user', id: after.username }, changes });
      }
      return userView(after);
    },

    /** Sets (or generates) a user's password; its browser sessions end. */
    async setPassword(actor: Actor, name: string, password: string | undefined): Promise<{ username: string; generatedPassword?: string }> {
      const user = await mustFind(name);
      const generated = password === undefined ? generatePassword() : undefined;
      const hash = await hashOf(password ?? generated!);
      await store.transaction(async (tx) => {
        await tx.setPassword(user.username, hash);
        await endSessions(tx, user);
      });
      await deps.principalChanged(user.username);
      await recordChange(deps, actor, { action: 'user.password', target: { kind: 'user', id: user.username }, changes: changesOf(fieldsOf(user), { ...fieldsOf(user), password: hash }) });
      return { username: user.username, ...(generated !== undefined && { generatedPassword: generated }) };
    },

    /**
     * Break-glass: makes `name` an enabled administrator (created when missing) with a generated
     * password that works until `expiresAt` (epoch ms); its sessions end. The admin event
     * `user.restore` goes to the audit journal in the same transaction: no event, no change.
     */
    async restore(actor: Actor, name: string, expiresAt: number): Promise<{ username: string; created: boolean; password: string }> {
      if (!USERNAME.test(name)) throw invalid('username', 'letters, digits and . _ @ - (at most 128)');
      const password = generatePassword();
      const hash = await hashOf(password);
      const created = await store.transaction(async (tx) => {
        const before = await tx.findUserByName(name);
        if (before === undefined) await tx.createUser({ username: name, passwordHash: hash, admin: true });
        await tx.setAdmin(name, true);
        await tx.setDisabled(name, false);
        await tx.setPassword(name, hash, expiresAt);
        const after = await mustFind(name, tx);
        if (before) await endSessions(tx, before);
        const changes = changesOf(before ? fieldsOf(before) : null, { ...fieldsOf(after), password: hash, passwordExpiresAt: new Date(expiresAt).toISOString() });
        await writeJournal(tx.db, adminEventOf(deps, actor, { action: 'user.restore', target: { kind: 'user', id: name }, changes })).catch((e: Error) => {
          throw new Error(`the audit event could not be recorded, so nothing was changed (${e.message})`);
        });
        return before === undefined;
      });
      await deps.principalChanged(name);
      return { username: name, created, password };
    },

    /** Deletes a user with its grants, member entries, tokens and sessions. */
    async delete(actor: Actor, name: string): Promise<void> {
      const removed = await keepingAnAdmin(async (tx) => {
        const user = await mustFind(name, tx);
        mustNotBeManaged(actor, user);
        const view = await policyView(deps, tx);
        const entries = entriesNaming(view, userPrincipals(deps.providers, user));
        const tokens = (await listTokens(tx.db)).filter((t) => t.owner.kind === 'user' && t.owner.id === user.id).map((t) => t.id);
        await view.repo.removeEntries(entries);
        const sessions = await endSessions(tx, user);
        // Its tokens go with the row (foreign key cascade).
        if (!(await tx.deleteUser(user.username))) throw notFound(`user ${name}`);
        return { user, entries, tokens, sessions };
      });
      await deps.principalChanged(removed.user.username);
      await deps.policyChanged();
      const { user, entries, tokens, sessions } = removed;
      await recordChange(deps, actor, {
        action: 'user.delete',
        target: { kind: 'user', id: user.username },
        changes: changesOf(
          { ...fieldsOf(user), grants: entries.bindings.map((id) => `api:${id}`), groups: entries.groups, tenants: entries.tenants, tokens, sessions },
          null,
        ),
      });
    },
  };
}

export type UsersService = ReturnType<typeof usersService>;

/**
 * The first administrator, made when the store has none (src/identity/bootstrap-admin.ts: at the
 * gateway's first start, door `config` — the GATEHOUSE_ADMIN_* environment —, or by `gatehouse init`,
 * door `cli`), is a change like any other: one admin event.
 */
export async function recordBootstrapAdmin(deps: ServiceDeps, actor: Actor, username: string): Promise<void> {
  const user = await deps.store.findUserByName(username);
  if (user) await recordChange(deps, actor, { action: 'user.create', target: { kind: 'user', id: username }, changes: changesOf(null, fieldsOf(user)) });
}
