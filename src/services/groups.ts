/**
 * Local groups: principal names added to a group on top of what the identity provider or LDAP
 * says. A group made through a door exists while it has members; declared groups change only in
 * the configuration file. A group SCIM provisioned (src/services/scim.ts) has its members set by
 * the SCIM door only: any other door gets a 409 naming SCIM.
 */
import { changesOf } from '../audit/admin-event.ts';
import { groupSchema } from '../policy/config.ts';
import { declaredEntry, policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { managedByScim, notFound } from './errors.ts';
import { isScimGroup } from '../store/scim.ts';

export interface GroupView {
  readonly name: string;
  readonly members: readonly string[];
  readonly source: 'config' | 'api';
}

export function groupsService(deps: ServiceDeps) {
  async function writable(actor: Actor, name: string) {
    if (actor.door !== 'scim' && (await isScimGroup(deps.store.db, name))) throw managedByScim(`group ${name}`);
    const policy = await policyView(deps);
    if (policy.declared.groups.some((g) => g.name === name)) throw declaredEntry(deps, `group ${name}`);
    return policy;
  }

  return {
    async list(): Promise<GroupView[]> {
      const { declared, stored } = await policyView(deps);
      return [...declared.groups.map((g) => ({ ...g, source: 'config' as const })), ...stored.groups.map((g) => ({ ...g, source: 'api' as const }))];
    },

    async get(name: string): Promise<GroupView> {
      const { declared, stored } = await policyView(deps);
      const config = declared.groups.find((g) => g.name === name);
      if (config) return { ...config, source: 'config' };
      const g = stored.groups.find((x) => x.name === name);
      if (!g) throw notFound(`group ${name}`);
      return { ...g, source: 'api' };
    },

    async addMember(actor: Actor, name: string, member: string): Promise<GroupView> {
      const policy = await writable(actor, name);
      if (!groupSchema.shape.name.safeParse(name).success) throw notFound(`group ${name}`);
      const before = policy.stored.groups.find((g) => g.name === name)?.members ?? [];
      if (!before.includes(member)) {
        await policy.repo.setGroupMember(name, member, true);
        await deps.policyChanged();
        await recordChange(deps, actor, { action: 'group.member.add', target: { kind: 'group', id: name }, changes: changesOf({ members: before }, { members: [...before, member] }) });
      }
      return { name, members: (await policyView(deps)).stored.groups.find((g) => g.name === name)?.members ?? [], source: 'api' };
    },

    async removeMember(actor: Actor, name: string, member: string): Promise<void> {
      const policy = await writable(actor, name);
      const before = policy.stored.groups.find((g) => g.name === name)?.members ?? [];
      if (!before.includes(member)) throw notFound(`member ${member} of group ${name}`);
      await policy.repo.setGroupMember(name, member, false);
      await deps.policyChanged();
      await recordChange(deps, actor, { action: 'group.member.remove', target: { kind: 'group', id: name }, changes: changesOf({ members: before }, { members: before.filter((m) => m !== member) }) });
    },
  };
}

export type GroupsService = ReturnType<typeof groupsService>;
