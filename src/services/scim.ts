/**
 * Users and groups provisioned by SCIM (the SCIM door, src/scim/, translates RFC 7644 requests to
 * these calls). A SCIM user IS a local user row marked `managedBy: 'scim'` plus its SCIM side
 * (userName, externalId, other attributes, a version); a SCIM group is a `scim_groups` row whose
 * members are ordinary stored group members (by user name), so the policy engine counts them as
 * that user's groups exactly like any local group — bindings on `group: X` apply, and nothing
 * else: a SCIM group named like an admin group gives nothing without a binding.
 *
 * The rules are the other services': creating, disabling (`active: false` ends the user's sessions
 * in the change's transaction, its tokens stop on their next use, every replica forgets it) and
 * deleting (grants, tokens and sessions go) are `users`' operations, group memberships are
 * `groups`' — called with the SCIM door's actor, so each change is their admin event with door
 * `scim`. What is SCIM's own here: uniqueness of userName (case-insensitive, RFC 7643 §4.1.1) and
 * displayName, versions (`meta.version`, If-Match, RFC 7644 §3.14) and the SCIM side's events.
 *
 * With `scim.identityProvider`, each SCIM user is also linked (the identities service's
 * `user.identity.link`/`unlink` events) to its identity there, `<provider>:<externalId or
 * userName>`: that provider's sign-ins are then this user, and stop with it (src/identity/link.ts).
 */
import { randomUUID } from 'node:crypto';
import { changesOf } from '../audit/admin-event.ts';
import {
  deleteScimGroup,
  groupMembers,
  insertScimGroup,
  insertScimUser,
  listScimGroups,
  listScimUsers,
  renameGroupMembers,
  touchScimUser,
  updateScimGroup,
  updateScimUser,
  type ScimGroupRow,
  type ScimUserRow,
} from '../store/scim.ts';
import { recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, notFound } from './errors.ts';
import type { GroupsService } from './groups.ts';
import type { IdentitiesService } from './identities.ts';
import { IDENTITY } from '../identity/local-names.ts';
import { linkedUser } from '../store/identities.ts';
import { USERNAME, type UsersService } from './users.ts';
import { groupSchema } from '../policy/config.ts';
import { callerError } from '../errors.ts';

export interface ScimUserInput {
  readonly userName: string;
  readonly externalId: string | null;
  /** Absent: a new user is active; a replaced one keeps its state (an omission never re-enables a deprovisioned user). */
  readonly active: boolean | undefined;
  /** Every other attribute the client sent (name, emails, the enterprise extension, ...). */
  readonly attributes: Record<string, unknown>;
}

export interface ScimGroupInput {
  readonly displayName: string;
  readonly externalId: string | null;
  /** SCIM ids of member users. */
  readonly members: readonly string[];
}

export type ScimUser = ScimUserRow & { readonly groups: readonly ScimGroupRow[] };
export type ScimGroup = ScimGroupRow & { readonly members: readonly ScimUserRow[] };

const versionMismatch = () => callerError('GATEHOUSE_SCIM_VERSION_MISMATCH');
const uniqueness = (what: string) => conflict(`${what} is already taken`);

function mustMatch(version: number, ifMatch: number | undefined): void {
  if (ifMatch !== undefined && ifMatch !== version) throw versionMismatch();
}

export function scimService(deps: ServiceDeps, users: UsersService, groups: GroupsService, identities: IdentitiesService) {
  const { store } = deps;
  const link = deps.providers.scimLink;

  /** The identity the user is at `scim.identityProvider` (`<provider>:<subjectAttribute>`); null without one. */
  function identityOf(u: Pick<ScimUserInput, 'userName' | 'externalId'>): string | null {
    const subject = link === undefined ? null : link.attribute === 'userName' ? u.userName : u.externalId;
    return link === undefined || subject === null || subject === '' ? null : `${link.provider}:${subject}`;
  }

  /** Before any change: the identity is well formed and no other user's (two people never share a sign-in). */
  async function identityFree(identity: string | null, username?: string): Promise<void> {
    if (identity === null) return;
    if (!IDENTITY.test(identity)) throw callerError('GATEHOUSE_SCIM_INVALID', `${link!.attribute}: not usable as a subject of ${link!.provider} (blanks at the ends or control characters)`);
    const owner = await linkedUser(store.db, identity);
    if (owner && owner.username !== username) throw conflict(`the identity ${identity} is already taken by another user`);
  }

  /** Moves the user's SCIM identity from `before` to `after` through the identities service (its admin events). */
  async function relink(actor: Actor, username: string, before: string | null, after: string | null): Promise<void> {
    if (before === null && after === null) return;
    const linked = (await identities.list(username)).identities;
    if (before !== null && before !== after && linked.includes(before)) await identities.unlink(actor, username, before);
    if (after !== null && !linked.includes(after)) await identities.link(actor, username, after);
  }
  const iso = () => new Date(deps.now()).toISOString();

  async function withGroups(rows: readonly ScimUserRow[]): Promise<ScimUser[]> {
    const all = await listScimGroups(store.db);
    const members = await groupMembers(store.db, all.map((g) => g.displayName));
    return rows.map((u) => ({ ...u, groups: all.filter((g) => members.some((m) => m.group === g.displayName && m.member === u.username)) }));
  }

  async function mustFindUser(id: string): Promise<ScimUserRow> {
    return (await listScimUsers(store.db, { id }))[0] ?? Promise.reject(notFound(`SCIM user ${id}`));
  }

  async function mustFindGroup(id: string): Promise<ScimGroupRow> {
    return (await listScimGroups(store.db, { id }))[0] ?? Promise.reject(notFound(`SCIM group ${id}`));
  }

  async function userNameFree(userName: string, except?: string): Promise<void> {
    const taken = (await listScimUsers(store.db, { userNameKey: userName.toLowerCase() })).find((u) => u.id !== except);
    if (taken) throw uniqueness(`userName ${userName}`);
  }

  async function withMembers(rows: readonly ScimGroupRow[]): Promise<ScimGroup[]> {
    const members = await groupMembers(store.db, rows.map((g) => g.displayName));
    const all = await listScimUsers(store.db);
    return rows.map((g) => ({ ...g, members: all.filter((u) => members.some((m) => m.group === g.displayName && m.member === u.username)) }));
  }

  /** The user names of these SCIM user ids; an unknown id is invalid input. */
  async function memberNames(ids: readonly string[]): Promise<string[]> {
    const all = await listScimUsers(store.db);
    return [...new Set(ids)].map((id) => {
      const u = all.find((x) => x.id === id);
      if (!u) throw callerError('GATEHOUSE_SCIM_INVALID', `members: no SCIM user ${id}`);
      return u.username;
    });
  }

  async function setMembers(actor: Actor, group: string, wanted: readonly string[]): Promise<void> {
    const now = (await groupMembers(store.db, [group])).map((m) => m.member);
    for (const m of wanted) if (!now.includes(m)) await groups.addMember(actor, group, m);
    for (const m of now) if (!wanted.includes(m)) await groups.removeMember(actor, group, m);
  }

  const sideOf = (u: Pick<ScimUserRow, 'userName' | 'externalId' | 'attributes'>) => ({ userName: u.userName, externalId: u.externalId, attributes: JSON.stringify(u.attributes) });

  return {
    users: {
      async list(): Promise<ScimUser[]> {
        return withGroups(await listScimUsers(store.db));
      },

      async get(id: string): Promise<ScimUser> {
        return (await withGroups([await mustFindUser(id)]))[0]!;
      },

      /** Provisions a user: a local user (no password) with its SCIM side, in one transaction. */
      async create(actor: Actor, input: ScimUserInput): Promise<ScimUser> {
        if (!USERNAME.test(input.userName)) throw callerError('GATEHOUSE_SCIM_INVALID', 'userName: letters, digits and . _ @ - (at most 128)');
        await userNameFree(input.userName);
        await identityFree(identityOf(input));
        const { user } = await users.create(actor, { username: input.userName, passwordHash: null, managedBy: 'scim' }, (tx, u) =>
          insertScimUser(tx.db, { userId: u.id, userName: input.userName, externalId: input.externalId, attributes: input.attributes, now: iso() }),
        );
        const row = (await listScimUsers(store.db, { userNameKey: input.userName.toLowerCase() }))[0]!;
        await recordChange(deps, actor, { action: 'user.scim.create', target: { kind: 'user', id: user.username }, changes: changesOf(null, sideOf(row)) });
        await relink(actor, user.username, null, identityOf(input));
        if (input.active === false) await users.update(actor, user.username, { disabled: true });
        return this.get(row.id);
      },

      /**
       * Replaces what SCIM says of a user (PUT, and PATCH after the door applied it). `active`
       * false disables the user through the users service: its sessions end at once and its
       * tokens stop (every door's rule); true enables it again.
       */
      async replace(actor: Actor, id: string, input: ScimUserInput, ifMatch?: number): Promise<ScimUser> {
        const before = await mustFindUser(id);
        mustMatch(before.version, ifMatch);
        if (input.userName.toLowerCase() !== before.userName.toLowerCase()) await userNameFree(input.userName, id);
        await identityFree(identityOf(input), before.username);
        const side = { userName: input.userName, externalId: input.externalId, attributes: input.attributes };
        const sideChanged = JSON.stringify(sideOf(side)) !== JSON.stringify(sideOf(before));
        if (sideChanged) {
          await updateScimUser(store.db, id, { ...side, now: iso() });
          await recordChange(deps, actor, { action: 'user.scim.update', target: { kind: 'user', id: before.username }, changes: changesOf(sideOf(before), sideOf(side)) });
        }
        await relink(actor, before.username, identityOf(before), identityOf(input));
        if (input.active !== undefined && input.active !== before.active) {
          await users.update(actor, before.username, { disabled: !input.active });
          if (!sideChanged) await touchScimUser(store.db, id, iso());
        }
        return this.get(id);
      },

      /** Deletes the user with its grants, group entries, tokens, sessions and identity links (the users service's rule; links cascade). */
      async delete(actor: Actor, id: string, ifMatch?: number): Promise<void> {
        const user = await mustFindUser(id);
        mustMatch(user.version, ifMatch);
        await users.delete(actor, user.username);
      },
    },

    groups: {
      async list(): Promise<ScimGroup[]> {
        return withMembers(await listScimGroups(store.db));
      },

      async get(id: string): Promise<ScimGroup> {
        return (await withMembers([await mustFindGroup(id)]))[0]!;
      },

      async create(actor: Actor, input: ScimGroupInput): Promise<ScimGroup> {
        if (!groupSchema.shape.name.safeParse(input.displayName).success) throw callerError('GATEHOUSE_SCIM_INVALID', `displayName: not a valid group name`);
        if ((await listScimGroups(store.db, { displayKey: input.displayName.toLowerCase() })).length > 0) throw uniqueness(`displayName ${input.displayName}`);
        if ((await groups.list()).some((g) => g.name === input.displayName)) throw conflict(`a group ${input.displayName} already exists outside SCIM`);
        const names = await memberNames(input.members);
        const id = randomUUID();
        await insertScimGroup(store.db, { id, displayName: input.displayName, externalId: input.externalId, now: iso() });
        await recordChange(deps, actor, { action: 'group.scim.create', target: { kind: 'group', id: input.displayName }, changes: changesOf(null, { displayName: input.displayName, externalId: input.externalId }) });
        await setMembers(actor, input.displayName, names);
        return this.get(id);
      },

      async replace(actor: Actor, id: string, input: ScimGroupInput, ifMatch?: number): Promise<ScimGroup> {
        const before = await mustFindGroup(id);
        mustMatch(before.version, ifMatch);
        const names = await memberNames(input.members);
        const renamed = input.displayName !== before.displayName;
        if (renamed) {
          if (!groupSchema.shape.name.safeParse(input.displayName).success) throw callerError('GATEHOUSE_SCIM_INVALID', `displayName: not a valid group name`);
          if ((await listScimGroups(store.db, { displayKey: input.displayName.toLowerCase() })).some((g) => g.id !== id)) throw uniqueness(`displayName ${input.displayName}`);
          if ((await groups.list()).some((g) => g.name === input.displayName)) throw conflict(`a group ${input.displayName} already exists outside SCIM`);
        }
        if (renamed || input.externalId !== before.externalId) {
          await store.transaction(async (tx) => {
            await updateScimGroup(tx.db, id, { displayName: input.displayName, externalId: input.externalId, now: iso() });
            if (renamed) await renameGroupMembers(tx.db, before.displayName, input.displayName);
          });
          if (renamed) await deps.policyChanged();
          await recordChange(deps, actor, {
            action: 'group.scim.update',
            target: { kind: 'group', id: input.displayName },
            changes: changesOf({ displayName: before.displayName, externalId: before.externalId }, { displayName: input.displayName, externalId: input.externalId }),
          });
        }
        const membersBefore = (await groupMembers(store.db, [input.displayName])).map((m) => m.member).sort();
        await setMembers(actor, input.displayName, names);
        if (!renamed && input.externalId === before.externalId && JSON.stringify(membersBefore) !== JSON.stringify([...names].sort())) {
          await updateScimGroup(store.db, id, { displayName: input.displayName, externalId: input.externalId, now: iso() });
        }
        return this.get(id);
      },

      async delete(actor: Actor, id: string, ifMatch?: number): Promise<void> {
        const group = await mustFindGroup(id);
        mustMatch(group.version, ifMatch);
        await setMembers(actor, group.displayName, []);
        await deleteScimGroup(store.db, id);
        await recordChange(deps, actor, { action: 'group.scim.delete', target: { kind: 'group', id: group.displayName }, changes: changesOf({ displayName: group.displayName, externalId: group.externalId }, null) });
      },
    },
  };
}

export type ScimService = ReturnType<typeof scimService>;
