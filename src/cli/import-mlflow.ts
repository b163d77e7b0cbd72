/**
 * `gatehouse import mlflow-basic-auth <basic_auth.db>`: migrates the users and per-resource
 * permissions of MLflow's basic-auth app (its SQLite database) into Gatehouse.
 *
 * Reads MLflow 3.x RBAC tables (`roles`, `role_permissions`, `user_role_assignments`: what
 * MLflow 3.18 reads and writes: the synthetic `__user_<id>__` roles become per-user grants, named
 * roles become MLflow roles of the compat API, src/services/mlflow-roles.ts, with their
 * permissions and assignments) or, for databases from before that migration, the legacy
 * `experiment_permissions` / `registered_model_permissions` tables. Passwords stay usable when
 * the stored hash is werkzeug's scrypt or pbkdf2 (Gatehouse verifies those and rehashes on the
 * first login); any other format leaves the user without a password (a reset is required, and
 * the plan says so). Re-running is idempotent: existing users and grants are left as they are.
 * The writes go through the services like every door's (src/services/): each user, grant and
 * membership made is one admin audit event (door `cli`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Config } from '../config/schema.ts';
import { isWerkzeugHash } from '../identity/password.ts';
import { policyRepository, type StoredPolicy } from '../store/policy.ts';
import { openStore, StoreSchemaError, type Store } from '../store/store.ts';
import { canonicalResource, grantsFor, InexpressibleGrant, listGrants, mlflowResource, parsePermission, roleBindingFor, UnmappableGrant, WORKSPACE_USE_ROLE, type MlflowPermission, type ResourceRef } from '../compat/mlflow-permissions.ts';
import { mlflowRoleGroup } from '../services/mlflow-roles.ts';
import { mlflowRoleRepository } from '../store/mlflow-roles.ts';
import { cliActor } from '../services/context.ts';
import type { Command } from './command.ts';
import { cliServices } from './services.ts';
import { LOCAL_NAME } from '../identity/local-names.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);


interface SourceUser {
  readonly id: number;
  readonly username: string;
  readonly passwordHash: string | null;
  readonly admin: boolean;
}
interface SourceGrant {
  readonly userId: number;
  readonly workspace: string;
  readonly resourceType: string;
  readonly resourcePattern: string;
  readonly permission: string;
  readonly legacy: boolean;
}

/** A named MLflow role (not a synthetic `__user_<id>__` one): imported as an MLflow role (src/services/mlflow-roles.ts). */
interface SourceRole {
  readonly name: string;
  readonly workspace: string;
  readonly description: string | null;
  readonly permissions: readonly { readonly resourceType: string; readonly resourcePattern: string; readonly permission: string }[];
  readonly userIds: readonly number[];
}

/** MLflow's per-user permissions live in a synthetic role per user and workspace (sqlalchemy_store.py `_synthetic_user_role_name`). */
const SYNTHETIC_ROLE = /^__user_\d+__$/;

export interface ImportPlan {
  readonly source: string;
  readonly schema: 'rbac' | 'legacy';
  readonly dryRun: boolean;
  readonly users: { username: string; action: 'create' | 'exists'; admin: boolean; password: 'kept' | 'reset-required' }[];
  readonly grants: { username: string; tenant: string; resourceType: string; resourceId: string; permission: MlflowPermission; action: 'add' | 'exists' | 'conflict' }[];
  readonly memberships: { username: string; tenant: string; action: 'add' | 'exists' }[];
  /** Named MLflow roles, with the permissions and members that are imported (the rest is under `skipped`). */
  readonly mlflowRoles: { name: string; tenant: string; action: 'create' | 'exists'; permissions: { resourceType: string; resourcePattern: string; permission: string; action: 'add' | 'exists' }[]; members: { username: string; action: 'add' | 'exists' }[] }[];
  readonly skipped: { what: string; reason: string }[];
  readonly rolesToCreate: string[];
}

function readSource(file: string): { schema: 'rbac' | 'legacy'; users: SourceUser[]; grants: SourceGrant[]; roles: SourceRole[] } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name));
    if (!tables.has('users')) throw new Error(`${file} is not an MLflow basic-auth database (no users table)`);
    const users = (db.prepare('select id, username, password_hash, is_admin from users order by id').all() as { id: number; username: string; password_hash: string | null; is_admin: number | null }[]).map((r) => ({
      id: Number(r.id),
      username: r.username,
      passwordHash: r.password_hash,
      admin: Boolean(r.is_admin),
    }));
    if (tables.has('roles') && tables.has('role_permissions') && tables.has('user_role_assignments')) {
      const rows = db
        .prepare(
          `select a.user_id, r.name, r.workspace, p.resource_type, p.resource_pattern, p.permission
           from user_role_assignments a join roles r on r.id = a.role_id join role_permissions p on p.role_id = r.id
           order by a.user_id, p.id`,
        )
        .all() as { user_id: number; name: string; workspace: string; resource_type: string; resource_pattern: string; permission: string }[];
      const named = (db.prepare('select id, name, workspace, description from roles order by id').all() as { id: number; name: string; workspace: string; description: string | null }[]).filter((r) => !SYNTHETIC_ROLE.test(r.name));
      const permissionsOf = db.prepare('select resource_type, resource_pattern, permission from role_permissions where role_id = ? order by id');
      const membersOf = db.prepare('select user_id from user_role_assignments where role_id = ? order by id');
      return {
        schema: 'rbac',
        users,
        // Per-user grants: the synthetic roles, one grant per row; named roles stay roles.
        grants: rows
          .filter((r) => SYNTHETIC_ROLE.test(r.name))
          .map((r) => ({ userId: Number(r.user_id), workspace: r.workspace, resourceType: r.resource_type, resourcePattern: r.resource_pattern, permission: r.permission, legacy: false })),
        roles: named.map((r) => ({
          name: r.name,
          workspace: r.workspace,
          description: r.description,
          permissions: (permissionsOf.all(r.id) as { resource_type: string; resource_pattern: string; permission: string }[]).map((p) => ({ resourceType: p.resource_type, resourcePattern: p.resource_pattern, permission: p.permission })),
          userIds: (membersOf.all(r.id) as { user_id: number }[]).map((m) => Number(m.user_id)),
        })),
      };
    }
    // Before MLflow's RBAC migration: one table per resource type, `NO_PERMISSIONS` allowed.
    const grants: SourceGrant[] = [];
    if (tables.has('experiment_permissions')) {
      for (const r of db.prepare('select user_id, experiment_id, permission from experiment_permissions order by id').all() as { user_id: number; experiment_id: string; permission: string }[]) {
        grants.push({ userId: Number(r.user_id), workspace: 'default', resourceType: 'experiment', resourcePattern: String(r.experiment_id), permission: r.permission, legacy: true });
      }
    }
    if (tables.has('registered_model_permissions')) {
      const cols = (db.prepare('pragma table_info(registered_model_permissions)').all() as { name: string }[]).map((c) => c.name);
      const ws = cols.includes('workspace') ? 'workspace' : "'default'";
      for (const r of db.prepare(`select user_id, name, permission, ${ws} as workspace from registered_model_permissions order by id`).all() as { user_id: number; name: string; permission: string; workspace: string }[]) {
        grants.push({ userId: Number(r.user_id), workspace: r.workspace, resourceType: 'registered_model', resourcePattern: r.name, permission: r.permission, legacy: true });
      }
    }
    return { schema: 'legacy', users, grants, roles: [] };
  } finally {
    db.close();
  }
}

/** The store to import into; for a dry run, never created or migrated (an absent or unmigrated store reads as empty). */
async function openTarget(config: Readonly<Config>, dryRun: boolean): Promise<Store | undefined> {
  if (!dryRun) return openStore({ ...config.store, dataDir: config.dataDir });
  if (config.store.driver === 'sqlite' && !existsSync(config.store.path ?? join(config.dataDir, 'gatehouse.db'))) return undefined;
  try {
    return await openStore({ ...config.store, dataDir: config.dataDir, migrate: 'never' });
  } catch (e) {
    if (e instanceof StoreSchemaError) return undefined;
    throw e;
  }
}

export async function importMlflowBasicAuth(
  config: Readonly<Config>,
  file: string,
  options: { dryRun: boolean; tenant?: string | undefined; progressEvery: number; progress: (line: string) => void; configFile?: string | undefined },
): Promise<ImportPlan> {
  const source = readSource(file);
  const store = await openTarget(config, options.dryRun);
  try {
    const repo = store && policyRepository(store.db);
    const stored: StoredPolicy = repo ? await repo.load() : { tenants: [], groups: [], roles: [], bindings: [] };
    const tenants = new Set([...config.tenants.map((t) => t.name), ...stored.tenants.map((t) => t.name)]);
    const existingUsers = new Set((await store?.listUsers())?.map((u) => u.username) ?? []);
    const plan: ImportPlan = { source: file, schema: source.schema, dryRun: options.dryRun, users: [], grants: [], memberships: [], mlflowRoles: [], skipped: [], rolesToCreate: [] };
    const byId = new Map<number, string>();

    for (const u of source.users) {
      // A local name (src/identity/local-names.ts): with a `:` it would read as another provider's identity.
      if (!LOCAL_NAME.test(u.username)) {
        plan.skipped.push({ what: `user ${JSON.stringify(u.username)}`, reason: 'not a valid Gatehouse local user name (letters, digits and . _ @ -, at most 128, starting with a letter or digit)' });
        continue;
      }
      byId.set(u.id, u.username);
      const password = u.passwordHash !== null && isWerkzeugHash(u.passwordHash) ? 'kept' : 'reset-required';
      plan.users.push({ username: u.username, action: existingUsers.has(u.username) ? 'exists' : 'create', admin: u.admin, password });
    }

    const seen = new Set<string>();
    for (const g of source.grants) {
      const username = byId.get(g.userId);
      const what = `${g.resourceType} ${g.resourcePattern} for user id ${g.userId}`;
      if (username === undefined) {
        plan.skipped.push({ what, reason: 'its user was not imported' });
        continue;
      }
      const tenant = options.tenant ?? g.workspace;
      if (!tenants.has(tenant)) {
        plan.skipped.push({ what: `${g.resourceType} ${g.resourcePattern} for ${username}`, reason: `tenant ${tenant} does not exist in Gatehouse (create it, or pass --tenant)` });
        continue;
      }
      if (g.resourceType === 'workspace') {
        // A workspace grant (USE: member, MANAGE: workspace admin) becomes tenant membership.
        const key = `m ${username} ${tenant}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const declared = config.tenants.find((t) => t.name === tenant);
        const member = stored.tenants.find((t) => t.name === tenant)?.members.users.includes(username) || declared?.members.users.includes(username);
        if (declared && !member) {
          plan.skipped.push({ what: `membership of ${username} in tenant ${tenant}`, reason: 'the tenant is declared in the configuration file: add the member there' });
          continue;
        }
        plan.memberships.push({ username, tenant, action: member ? 'exists' : 'add' });
        if (g.permission === 'MANAGE') plan.skipped.push({ what: `workspace admin of ${tenant} for ${username}`, reason: 'imported as membership only; grant a tenant role with `gatehouse grants` or the admin API' });
        continue;
      }
      let ref: ResourceRef;
      let permission: MlflowPermission;
      try {
        ref = mlflowResource(g.resourceType, g.resourcePattern);
        permission = parsePermission(g.permission, { legacy: true });
      } catch (e) {
        if (!(e instanceof UnmappableGrant || e instanceof InexpressibleGrant)) throw e;
        plan.skipped.push({ what: `${g.resourceType} ${g.resourcePattern} ${g.permission} for ${username}`, reason: e.message });
        continue;
      }
      const key = `g ${username} ${tenant} ${ref.type === 'experiment' ? 'e' : 'm'} ${ref.id}`;
      if (seen.has(key)) {
        plan.skipped.push({ what: `${ref.type} ${ref.id} ${permission} for ${username}`, reason: 'a second grant on the same resource (registered_model and prompt share one name space in Gatehouse); the first is kept' });
        continue;
      }
      seen.add(key);
      const existing = grantsFor(stored, username, tenant, ref);
      const have = existing.length > 0 ? listGrants({ ...stored, bindings: existing }, username)[0]?.permission : undefined;
      plan.grants.push({ username, tenant, resourceType: ref.type, resourceId: ref.id, permission, action: have === undefined ? 'add' : have === permission ? 'exists' : 'conflict' });
    }
    await planRoles(plan, source.roles, { store, stored, tenants, byId, tenant: options.tenant });
    const declaredRoles = new Set([...config.roles.map((r) => r.name), ...stored.roles.map((r) => r.name)]);
    if (plan.grants.some((g) => g.action === 'add') || plan.mlflowRoles.some((r) => r.permissions.some((p) => p.action === 'add'))) {
      plan.rolesToCreate.push(...['mlflow-read', 'mlflow-use', 'mlflow-edit', 'mlflow-manage', WORKSPACE_USE_ROLE.name].filter((r) => !declaredRoles.has(r)));
    }
    if (options.dryRun || !store || !repo) return plan;

    const sourceRoles = new Map(source.roles.map((r) => [`${options.tenant ?? r.workspace} ${r.name}`, r]));
    const { services, close } = cliServices(config, options.configFile, store);
    const actor = cliActor();
    try {
      const hashes = new Map(source.users.map((u) => [u.username, u.passwordHash]));
      let done = 0;
      for (const u of plan.users) {
        if (u.action === 'create') {
          const hash = hashes.get(u.username) ?? null;
          await services.users.create(actor, { username: u.username, passwordHash: u.password === 'kept' ? hash : null, admin: u.admin });
        }
        if (++done % options.progressEvery === 0) options.progress(`users: ${done}/${plan.users.length}`);
      }
      // Grants that exist (or conflict) are left as they are by the service, as the plan says.
      const grants = plan.grants.filter((g) => g.action === 'add').map((g) => ({ username: g.username, tenant: g.tenant, ref: canonicalResource(g.resourceType, g.resourceId), permission: g.permission, createdBy: 'import:mlflow-basic-auth' }));
      let added = 0;
      await services.grants.grantResources(actor, grants, config.roles.map((r) => r.name), () => {
        if (++added % options.progressEvery === 0 || added === grants.length) options.progress(`grants: ${added}/${plan.grants.length}`);
      });
      for (const m of plan.memberships) if (m.action === 'add') await services.tenants.addMember(actor, m.tenant, 'user', m.username);
      // Named roles through the MLflow roles service, as the compat API makes them.
      for (const r of plan.mlflowRoles) {
        const source = sourceRoles.get(`${r.tenant} ${r.name}`);
        const id = r.action === 'create' ? (await services.mlflowRoles.create(actor, { workspace: r.tenant, name: r.name, description: source?.description ?? null })).id : (await mlflowRoleRepository(store.db).byName(r.tenant, r.name))!.id;
        for (const p of r.permissions) if (p.action === 'add') await services.mlflowRoles.addPermission(actor, id, p.resourceType, p.resourcePattern, p.permission);
        for (const m of r.members) if (m.action === 'add') await services.mlflowRoles.assign(actor, id, m.username);
      }
    } finally {
      await close();
    }
    return plan;
  } finally {
    await store?.close();
  }
}

/** The plan for MLflow's named roles: what is made, what exists, what Gatehouse cannot state (skipped, with the reason). */
async function planRoles(
  plan: ImportPlan,
  roles: readonly SourceRole[],
  ctx: { store: Store | undefined; stored: StoredPolicy; tenants: ReadonlySet<string>; byId: ReadonlyMap<number, string>; tenant: string | undefined },
): Promise<void> {
  const repo = ctx.store && mlflowRoleRepository(ctx.store.db);
  for (const role of roles) {
    const tenant = ctx.tenant ?? role.workspace;
    if (!ctx.tenants.has(tenant)) {
      plan.skipped.push({ what: `role ${role.name} of workspace ${role.workspace}`, reason: `tenant ${tenant} does not exist in Gatehouse (create it, or pass --tenant)` });
      continue;
    }
    const existing = await repo?.byName(tenant, role.name);
    const have = existing ? await repo!.permissions([existing.id]) : [];
    const members = existing ? (ctx.stored.groups.find((g) => g.name === mlflowRoleGroup(existing.id))?.members ?? []) : [];
    const entry: ImportPlan['mlflowRoles'][number] = { name: role.name, tenant, action: existing ? 'exists' : 'create', permissions: [], members: [] };
    for (const p of role.permissions) {
      try {
        const { pattern } = roleBindingFor('import', tenant, p.resourceType, p.resourcePattern, p.permission);
        const exists = have.some((h) => h.resourceType === p.resourceType && h.resourcePattern === pattern);
        entry.permissions.push({ resourceType: p.resourceType, resourcePattern: pattern, permission: p.permission, action: exists ? 'exists' : 'add' });
      } catch (e) {
        if (!(e instanceof UnmappableGrant || e instanceof InexpressibleGrant)) throw e;
        plan.skipped.push({ what: `${p.resourceType} ${p.resourcePattern} ${p.permission} of role ${role.name}`, reason: e.message });
      }
    }
    for (const id of role.userIds) {
      const username = ctx.byId.get(id);
      if (username === undefined) plan.skipped.push({ what: `assignment of role ${role.name} to user id ${id}`, reason: 'its user was not imported' });
      else entry.members.push({ username, action: members.includes(username) ? 'exists' : 'add' });
    }
    plan.mlflowRoles.push(entry);
  }
}

function printPlan(plan: ImportPlan): void {
  const count = <T>(xs: T[], f: (x: T) => boolean) => xs.filter(f).length;
  out(`${plan.dryRun ? 'DRY RUN (nothing written): ' : ''}MLflow basic-auth database ${plan.source} (${plan.schema} schema)`);
  out(`users: ${count(plan.users, (u) => u.action === 'create')} to create, ${count(plan.users, (u) => u.action === 'exists')} already in Gatehouse (left unchanged)`);
  for (const u of plan.users) {
    out(`  ${u.action === 'create' ? '+' : '='} ${u.username}${u.admin ? ' (admin)' : ''}${u.action === 'create' ? (u.password === 'kept' ? ': password kept' : ': PASSWORD RESET REQUIRED (hash format not verifiable)') : ''}`);
  }
  out(`grants: ${count(plan.grants, (g) => g.action === 'add')} to add, ${count(plan.grants, (g) => g.action === 'exists')} already present, ${count(plan.grants, (g) => g.action === 'conflict')} conflicting (existing kept)`);
  for (const g of plan.grants) out(`  ${g.action === 'add' ? '+' : g.action === 'exists' ? '=' : '!'} ${g.username} ${g.permission} on ${g.resourceType} ${g.resourceId} in tenant ${g.tenant}`);
  for (const m of plan.memberships) out(`  ${m.action === 'add' ? '+' : '='} ${m.username} member of tenant ${m.tenant}`);
  out(`MLflow roles: ${count(plan.mlflowRoles, (r) => r.action === 'create')} to create, ${count(plan.mlflowRoles, (r) => r.action === 'exists')} already in Gatehouse`);
  for (const r of plan.mlflowRoles) {
    out(`  ${r.action === 'create' ? '+' : '='} role ${r.name} in tenant ${r.tenant}`);
    for (const p of r.permissions) out(`    ${p.action === 'add' ? '+' : '='} ${p.permission} on ${p.resourceType} ${p.resourcePattern}`);
    for (const m of r.members) out(`    ${m.action === 'add' ? '+' : '='} assigned to ${m.username}`);
  }
  if (plan.rolesToCreate.length > 0) out(`roles to create: ${plan.rolesToCreate.join(', ')}`);
  for (const s of plan.skipped) out(`  skipped ${s.what}: ${s.reason}`);
  const resets = plan.users.filter((u) => u.action === 'create' && u.password === 'reset-required').map((u) => u.username);
  if (resets.length > 0) out(`ACTION NEEDED: ${resets.length} user(s) need a new password (gatehouse users set-password NAME): ${resets.join(', ')}`);
}

export const importCommands: Record<string, Command> = {
  'import mlflow-basic-auth': {
    summary: "migrate users and permissions from MLflow's basic-auth database",
    writes: true,
    usage: [
      'gatehouse import mlflow-basic-auth <basic_auth.db> [--dry-run] [--tenant NAME] [--progress-every N] [--json]',
      '',
      "Reads the SQLite database of MLflow's basic-auth app (database_uri in its basic_auth.ini) and creates",
      'the users (werkzeug scrypt/pbkdf2 passwords keep working; other formats need a reset, listed at the',
      "end) and one binding per per-resource permission (mlflow-read/use/edit/manage roles; DENY and",
      'NO_PERMISSIONS become deny bindings); named MLflow 3.18 roles stay roles, with their permissions and',
      'assignments (what Gatehouse cannot state is listed as skipped). Grants go to the tenant named like their MLflow workspace',
      "(`default` without workspaces), or to --tenant. Existing users and grants are left unchanged, so",
      'a re-run is safe. --dry-run prints the plan and writes nothing. Progress goes to stderr every N',
      'users and grants (default 500). See docs/migrating-from-mlflow-auth.md.',
    ].join('\n'),
    options: { 'dry-run': { type: 'boolean' }, tenant: { type: 'string' }, 'progress-every': { type: 'string' } },
    async run(input) {
      const { config, values, positionals } = input;
      const file = positionals[0];
      if (!file || !existsSync(file)) {
        err(file ? `no such file: ${file}` : 'the path of basic_auth.db is required');
        return 2;
      }
      const every = Number((values['progress-every'] as string | undefined) ?? 500);
      if (!Number.isSafeInteger(every) || every < 1) {
        err('--progress-every must be a positive integer');
        return 2;
      }
      const plan = await importMlflowBasicAuth(config!, file, {
        configFile: input.configFile,
        dryRun: Boolean(values['dry-run']),
        tenant: values.tenant as string | undefined,
        progressEvery: every,
        progress: (line) => err(`import: ${line}`),
      });
      if (values.json) out(JSON.stringify(plan, null, 2));
      else printPlan(plan);
      return 0;
    },
  },
};
