/**
 * `gatehouse tenants|groups|roles|grants ...`: the policy made outside the config file, through the
 * services (src/services/) like every other door. A running gateway sharing the store picks every
 * change up within a second (its policy version is polled; at once with Redis). Declared (config)
 * entries are shown and cannot be changed here. In workspace tenancy `tenants add` creates the
 * MLflow workspace too (MLflow from this configuration's `mlflow.url`), and `tenants remove`
 * deletes it.
 */
import type { Command, CommandInput } from './command.ts';
import { bindingSchema, roleSchema, type BindingConfig } from '../policy/config.ts';
import { withServices } from './services.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

const usageError = (text: string) => {
  err(text);
  return 2;
};
/** The CLI names stored entries `store` where the admin API says `api`. */
const source = (s: string) => (s === 'api' ? 'store' : s);

export const policyCommands: Record<string, Command> = {
  'tenants list': {
    summary: 'list tenants (declared in config and made here)',
    usage: 'gatehouse tenants list [--json]',
    run: (input) =>
      withServices(input, async (services) => {
        const rows = (await services.tenants.list()).map((t) => ({ ...t, source: source(t.source) }));
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const t of rows) out(`${t.name} (${t.source})${t.defaultRole ? ` default role ${t.defaultRole}` : ''} users: ${t.members.users.join(', ') || '-'} groups: ${t.members.groups.join(', ') || '-'}`);
        return 0;
      }),
  },
  'tenants add': {
    summary: 'add a tenant (and, in workspace tenancy, its MLflow workspace)',
    writes: true,
    usage: [
      'gatehouse tenants add <name> [--default-role ROLE]',
      '',
      'In workspace tenancy the MLflow workspace is created too (an existing one is adopted); when MLflow',
      'refuses, nothing is made.',
    ].join('\n'),
    options: { 'default-role': { type: 'string' } },
    run: (input) => {
      const name = input.positionals[0];
      if (!name) return Promise.resolve(usageError('a tenant name is required'));
      return withServices(input, async (services, actor) => {
        await services.tenants.create(actor, { name, defaultRole: input.values['default-role'] as string | undefined });
        out(`tenant ${name} added`);
        return 0;
      });
    },
  },
  'tenants remove': {
    summary: 'remove a tenant made here, and its MLflow workspace',
    writes: true,
    usage: [
      'gatehouse tenants remove <name> [--force]',
      '',
      'Refused while grants name the tenant, and while its MLflow workspace holds experiments, models or',
      'other resources; --force deletes the workspace with everything in it.',
    ].join('\n'),
    options: { force: { type: 'boolean' } },
    run: (input) =>
      withServices(input, async (services, actor) => {
        const name = input.positionals[0] ?? '';
        await services.tenants.delete(actor, name, { force: Boolean(input.values.force) });
        out(`tenant ${name} removed`);
        return 0;
      }),
  },
  'tenants add-member': {
    summary: 'add a user or group to a tenant made here',
    writes: true,
    usage: 'gatehouse tenants add-member <tenant> (--user NAME | --group NAME)',
    options: { user: { type: 'string' }, group: { type: 'string' } },
    run: (input) => setTenantMember(input, true),
  },
  'tenants remove-member': {
    summary: 'remove a user or group from a tenant made here',
    writes: true,
    usage: 'gatehouse tenants remove-member <tenant> (--user NAME | --group NAME)',
    options: { user: { type: 'string' }, group: { type: 'string' } },
    run: (input) => setTenantMember(input, false),
  },
  'groups add-member': {
    summary: 'add a principal to a local group',
    writes: true,
    usage: 'gatehouse groups add-member <group> <principal>',
    run: (input) => setGroupMember(input, true),
  },
  'groups remove-member': {
    summary: 'remove a principal from a local group',
    writes: true,
    usage: 'gatehouse groups remove-member <group> <principal>',
    run: (input) => setGroupMember(input, false),
  },
  'groups list': {
    summary: 'list local groups',
    usage: 'gatehouse groups list [--json]',
    run: (input) =>
      withServices(input, async (services) => {
        const rows = (await services.groups.list()).map((g) => ({ ...g, source: source(g.source) }));
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const g of rows) out(`${g.name} (${g.source}): ${g.members.join(', ')}`);
        return 0;
      }),
  },
  'roles list': {
    summary: 'list roles: built in, declared and made here',
    usage: 'gatehouse roles list [--json]',
    run: (input) =>
      withServices(input, async (services) => {
        const rows = (await services.roles.list()).map(({ admin: _admin, ...r }) => ({ ...r, source: source(r.source) }));
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const r of rows) out(`${r.name} (${r.source}): ${JSON.stringify(r.levels)}${r.operations.length ? ` + ${r.operations.join(', ')}` : ''}`);
        return 0;
      }),
  },
  'roles add': {
    summary: 'add a custom role',
    writes: true,
    usage: "gatehouse roles add --json-role '{\"name\":\"tagger\",\"levels\":{\"experiment\":\"READ\"},\"operations\":[\"runs.setTag\"]}'",
    options: { 'json-role': { type: 'string' } },
    run: async (input) => {
      let json: unknown;
      try {
        json = JSON.parse((input.values['json-role'] as string | undefined) ?? 'null');
      } catch {
        return usageError('--json-role: not JSON');
      }
      const parsed = roleSchema.safeParse(json);
      if (!parsed.success) return usageError(parsed.error.issues.map((i) => `${i.path.join('.') || '(role)'}: ${i.message}`).join('\n'));
      const code = await withServices(input, async (services, actor) => {
        await services.roles.create(actor, parsed.data);
        out(`role ${parsed.data.name} added`);
        return 0;
      });
      // A name that is taken is the operator's to change, like any other invalid input.
      return code === 1 ? 2 : code;
    },
  },
  'roles remove': {
    summary: 'remove a custom role made here (refused while a grant or tenant names it)',
    writes: true,
    usage: 'gatehouse roles remove <name>',
    run: (input) =>
      withServices(input, async (services, actor) => {
        const name = input.positionals[0] ?? '';
        await services.roles.delete(actor, name);
        out(`role ${name} removed`);
        return 0;
      }),
  },
  'grants list': {
    summary: 'list role bindings (declared and made here)',
    usage: 'gatehouse grants list [--json]',
    run: (input) =>
      withServices(input, async (services) => {
        const rows = (await services.grants.list()).map(({ source: _source, ...g }) => g);
        if (input.values.json) out(JSON.stringify(rows, null, 2));
        else for (const b of rows) out(`${b.id}: ${b.effect} ${b.role} to ${b.user ?? b.group ?? b.serviceAccount}${b.tenant ? ` in ${b.tenant}` : ' globally'}${b.experiment ? ` on experiment ${b.experiment.id ?? b.experiment.namePattern}` : ''}${b.model ? ` on models ${b.model.namePattern}` : ''}`);
        return 0;
      }),
  },
  'grants add': {
    summary: 'bind a role to a user, group or service account at a scope',
    writes: true,
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
    run: async (input) => {
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
      return withServices(input, async (services, actor) => {
        const { id } = await services.grants.create(actor, binding);
        if (input.values.json) out(JSON.stringify({ id, ...binding }));
        else out(`grant ${id} added`);
        return 0;
      });
    },
  },
  'grants remove': {
    summary: 'remove a grant made here',
    writes: true,
    usage: 'gatehouse grants remove <api:ID>',
    run: (input) =>
      withServices(input, async (services, actor) => {
        const id = input.positionals[0] ?? '';
        await services.grants.remove(actor, id.startsWith('config:') || id.startsWith('api:') ? id : `api:${id}`);
        out(`grant ${id} removed`);
        return 0;
      }),
  },
};

function setTenantMember(input: CommandInput, present: boolean): Promise<number> {
  const tenant = input.positionals[0] ?? '';
  const user = input.values.user as string | undefined;
  const group = input.values.group as string | undefined;
  if ((user === undefined) === (group === undefined)) return Promise.resolve(usageError('exactly one of --user, --group'));
  return withServices(input, async (services, actor) => {
    const kind = user !== undefined ? 'user' : 'group';
    if (present) await services.tenants.addMember(actor, tenant, kind, (user ?? group)!);
    else await services.tenants.removeMember(actor, tenant, kind, (user ?? group)!);
    out(`${present ? 'added' : 'removed'} ${user ?? group} ${present ? 'to' : 'from'} ${tenant}`);
    return 0;
  });
}

function setGroupMember(input: CommandInput, present: boolean): Promise<number> {
  const [group, member] = input.positionals;
  if (!group || !member) return Promise.resolve(usageError('a group and a principal name are required'));
  return withServices(input, async (services, actor) => {
    if (present) await services.groups.addMember(actor, group, member);
    else await services.groups.removeMember(actor, group, member);
    out(`${present ? 'added' : 'removed'} ${member} ${present ? 'to' : 'from'} ${group}`);
    return 0;
  });
}
