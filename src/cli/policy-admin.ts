/**
 * `gatehouse tenants|groups|roles|grants ...`: the policy made outside the config file, in the
 * store. A running gateway sharing the store picks every change up within a second (its policy
 * version is polled). Declared (config) entries are shown and cannot be changed here.
 */
import type { Command, CommandInput } from './commands.ts';
import { bindingSchema, roleSchema, type BindingConfig } from '../policy/config.ts';
import { changeProblems } from '../policy/service.ts';
import { BUILTIN_ROLES } from '../policy/model.ts';
import { openStore } from '../store/store.ts';
import { policyRepository, type PolicyRepository, type StoredPolicy } from '../store/policy.ts';
import { announceChange } from '../redis/notify.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

async function withPolicy(input: CommandInput, fn: (repo: PolicyRepository, stored: StoredPolicy) => Promise<number>): Promise<number> {
  const store = await openStore({ ...input.config!.store, dataDir: input.config!.dataDir });
  try {
    const repo = policyRepository(store.db);
    const before = await repo.version();
    const code = await fn(repo, await repo.load());
    // With Redis, running gateways reload at once rather than at their next poll.
    if ((await repo.version()) !== before) await announceChange(input.config!.redis, { kind: 'policy' }, err);
    return code;
  } finally {
    await store.close();
  }
}

/** Refuses a change that would leave a dangling reference (unknown role or tenant), naming it. */
function check(input: CommandInput, stored: StoredPolicy): boolean {
  const c = input.config!;
  const problems = changeProblems({ ...c, defaultTenant: c.tenancy.defaultTenant }, stored);
  for (const p of problems) err(`${p.path.join('.')}: ${p.message}`);
  return problems.length === 0;
}

const declared = (input: CommandInput) => input.config!;
const usageError = (text: string) => {
  err(text);
  return 2;
};

export const policyCommands: Record<string, Command> = {
  'tenants list': {
    summary: 'list tenants (declared in config and made here)',
    usage: 'gatehouse tenants list [--json]',
    run: (input) =>
      withPolicy(input, async (_repo, stored) => {
        const rows = [...declared(input).tenants.map((t) => ({ ...t, source: 'config' })), ...stored.tenants.map((t) => ({ ...t, source: 'store' }))];
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const t of rows) out(`${t.name} (${t.source})${t.defaultRole ? ` default role ${t.defaultRole}` : ''} users: ${t.members.users.join(', ') || '-'} groups: ${t.members.groups.join(', ') || '-'}`);
        return 0;
      }),
  },
  'tenants add': {
    summary: 'add a tenant (an MLflow workspace name)',
    usage: 'gatehouse tenants add <name> [--default-role ROLE]\n\nCreate the MLflow workspace too (as an admin, POST /api/3.0/mlflow/workspaces) in workspace mode.',
    options: { 'default-role': { type: 'string' } },
    run: (input) =>
      withPolicy(input, async (repo, stored) => {
        const name = input.positionals[0];
        if (!name) return usageError('a tenant name is required');
        if ([...declared(input).tenants, ...stored.tenants].some((t) => t.name === name)) return usageError(`tenant ${name} exists`);
        const defaultRole = input.values['default-role'] as string | undefined;
        if (!check(input, { ...stored, tenants: [...stored.tenants, { name, ...(defaultRole && { defaultRole }), members: { users: [], groups: [] } }] })) return 2;
        await repo.addTenant(name, defaultRole);
        out(`tenant ${name} added`);
        return 0;
      }),
  },
  'tenants remove': {
    summary: 'remove a tenant made here (its grants stay until removed)',
    usage: 'gatehouse tenants remove <name>',
    run: (input) =>
      withPolicy(input, async (repo) => {
        const name = input.positionals[0] ?? '';
        if (declared(input).tenants.some((t) => t.name === name)) return usageError(`tenant ${name} is declared in the config file; change it there`);
        if (!(await repo.removeTenant(name))) return usageError(`no tenant ${name} in the store`);
        out(`tenant ${name} removed`);
        return 0;
      }),
  },
  'tenants add-member': {
    summary: 'add a user or group to a tenant made here',
    usage: 'gatehouse tenants add-member <tenant> (--user NAME | --group NAME)',
    options: { user: { type: 'string' }, group: { type: 'string' } },
    run: (input) => setTenantMember(input, true),
  },
  'tenants remove-member': {
    summary: 'remove a user or group from a tenant made here',
    usage: 'gatehouse tenants remove-member <tenant> (--user NAME | --group NAME)',
    options: { user: { type: 'string' }, group: { type: 'string' } },
    run: (input) => setTenantMember(input, false),
  },
  'groups add-member': {
    summary: 'add a principal to a local group',
    usage: 'gatehouse groups add-member <group> <principal>',
    run: (input) => setGroupMember(input, true),
  },
  'groups remove-member': {
    summary: 'remove a principal from a local group',
    usage: 'gatehouse groups remove-member <group> <principal>',
    run: (input) => setGroupMember(input, false),
  },
  'groups list': {
    summary: 'list local groups',
    usage: 'gatehouse groups list [--json]',
    run: (input) =>
      withPolicy(input, async (_repo, stored) => {
        const rows = [...declared(input).groups.map((g) => ({ ...g, source: 'config' })), ...stored.groups.map((g) => ({ ...g, source: 'store' }))];
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const g of rows) out(`${g.name} (${g.source}): ${g.members.join(', ')}`);
        return 0;
      }),
  },
  'roles list': {
    summary: 'list roles: built in, declared and made here',
    usage: 'gatehouse roles list [--json]',
    run: (input) =>
      withPolicy(input, async (_repo, stored) => {
        const rows = [
          ...BUILTIN_ROLES.map((r) => ({ name: r.name, description: r.description, levels: r.levels, operations: r.operations, create: r.create, source: 'built-in' })),
          ...declared(input).roles.map((r) => ({ ...r, source: 'config' })),
          ...stored.roles.map((r) => ({ ...r, source: 'store' })),
        ];
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const r of rows) out(`${r.name} (${r.source}): ${JSON.stringify(r.levels)}${r.operations.length ? ` + ${r.operations.join(', ')}` : ''}`);
        return 0;
      }),
  },
  'roles add': {
    summary: 'add a custom role',
    usage: "gatehouse roles add --json-role '{\"name\":\"tagger\",\"levels\":{\"experiment\":\"READ\"},\"operations\":[\"runs.setTag\"]}'",
    options: { 'json-role': { type: 'string' } },
    run: (input) =>
      withPolicy(input, async (repo, stored) => {
        const parsed = roleSchema.safeParse(JSON.parse((input.values['json-role'] as string | undefined) ?? 'null'));
        if (!parsed.success) return usageError(parsed.error.issues.map((i) => `${i.path.join('.') || '(role)'}: ${i.message}`).join('\n'));
        const names = [...BUILTIN_ROLES.map((r) => r.name), ...declared(input).roles.map((r) => r.name), ...stored.roles.map((r) => r.name)];
        if (names.includes(parsed.data.name)) return usageError(`role ${parsed.data.name} exists`);
        await repo.addRole(parsed.data);
        out(`role ${parsed.data.name} added`);
        return 0;
      }),
  },
  'grants list': {
    summary: 'list role bindings (declared and made here)',
    usage: 'gatehouse grants list [--json]',
    run: (input) =>
      withPolicy(input, async (_repo, stored) => {
        const rows = [...declared(input).bindings.map((b, i) => ({ id: `config:${i}`, ...b })), ...stored.bindings.map((s) => ({ id: `api:${s.id}`, ...s.binding, createdBy: s.createdBy }))];
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const b of rows) out(`${b.id}: ${b.effect} ${b.role} to ${b.user ?? b.group ?? b.serviceAccount}${b.tenant ? ` in ${b.tenant}` : ' globally'}${b.experiment ? ` on experiment ${b.experiment.id ?? b.experiment.namePattern}` : ''}${b.model ? ` on models ${b.model.namePattern}` : ''}`);
        return 0;
      }),
  },
  'grants add': {
    summary: 'bind a role to a user, group or service account at a scope',
    usage: [
      'gatehouse grants add --role ROLE (--user N | --group N | --service-account N) [--tenant T]',
      '                     [--experiment-id ID | --experiment-pattern P | --model-pattern P] [--deny] [--json]',
    ].join('\n'),
    options: {
      role: { type: 'string' },
      user: { type: 'string' },
      group: { type: 'string' },
      'service-account': { type: 'string' },
      tenant: { type: 'string' },
      'experiment-id': { type: 'string' },
      'experiment-pattern': { type: 'string' },
      'model-pattern': { type: 'string' },
      deny: { type: 'boolean' },
    },
    run: (input) =>
      withPolicy(input, async (repo, stored) => {
        const v = input.values as Record<string, string | boolean | undefined>;
        const candidate = {
          role: v.role,
          effect: v.deny ? 'deny' : 'allow',
          ...(v.user !== undefined && { user: v.user }),
          ...(v.group !== undefined && { group: v.group }),
          ...(v['service-account'] !== undefined && { serviceAccount: v['service-account'] }),
          ...(v.tenant !== undefined && { tenant: v.tenant }),
          ...((v['experiment-id'] !== undefined || v['experiment-pattern'] !== undefined) && {
            experiment: { ...(v['experiment-id'] !== undefined && { id: v['experiment-id'] }), ...(v['experiment-pattern'] !== undefined && { namePattern: v['experiment-pattern'] }) },
          }),
          ...(v['model-pattern'] !== undefined && { model: { namePattern: v['model-pattern'] } }),
        };
        const parsed = bindingSchema.safeParse(candidate);
        if (!parsed.success) return usageError(parsed.error.issues.map((i) => `${i.path.join('.') || '(grant)'}: ${i.message}`).join('\n'));
        const binding: BindingConfig = parsed.data;
        if (!check(input, { ...stored, bindings: [...stored.bindings, { id: 'new', binding, createdBy: 'cli' }] })) return 2;
        const id = await repo.addBinding(binding, 'cli');
        if (input.values.json) out(JSON.stringify({ id: `api:${id}`, ...binding }));
        else out(`grant api:${id} added`);
        return 0;
      }),
  },
  'grants remove': {
    summary: 'remove a grant made here',
    usage: 'gatehouse grants remove <api:ID>',
    run: (input) =>
      withPolicy(input, async (repo) => {
        const id = input.positionals[0] ?? '';
        if (id.startsWith('config:')) return usageError(`${id} is declared in the config file; change it there`);
        if (!(await repo.removeBinding(id.replace(/^api:/, '')))) return usageError(`no grant ${id}`);
        out(`grant ${id} removed`);
        return 0;
      }),
  },
};

function setTenantMember(input: CommandInput, present: boolean): Promise<number> {
  return withPolicy(input, async (repo, stored) => {
    const tenant = input.positionals[0] ?? '';
    const user = input.values.user as string | undefined;
    const group = input.values.group as string | undefined;
    if ((user === undefined) === (group === undefined)) return usageError('exactly one of --user, --group');
    if (!stored.tenants.some((t) => t.name === tenant)) return usageError(`no tenant ${tenant} in the store (declared tenants are changed in the config file)`);
    await repo.setTenantMember(tenant, user !== undefined ? 'user' : 'group', (user ?? group)!, present);
    out(`${present ? 'added' : 'removed'} ${user ?? group} ${present ? 'to' : 'from'} ${tenant}`);
    return 0;
  });
}

function setGroupMember(input: CommandInput, present: boolean): Promise<number> {
  return withPolicy(input, async (repo) => {
    const [group, member] = input.positionals;
    if (!group || !member) return usageError('a group and a principal name are required');
    await repo.setGroupMember(group, member, present);
    out(`${present ? 'added' : 'removed'} ${member} ${present ? 'to' : 'from'} ${group}`);
    return 0;
  });
}
