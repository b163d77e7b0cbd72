/**
 * MLflow's per-resource permissions (mlflow/server/auth/permissions.py) as Gatehouse bindings,
 * shared by the MLflow-auth-compatible API (mlflow-auth.ts) and the importer
 * (src/cli/import-mlflow.ts).
 *
 * One MLflow grant "user U has level L on resource R" is one binding: subject U, role
 * `mlflow-<level>` (custom roles created in the store on first use, granting L on experiments and
 * on registered models; the binding's scope picks the family), scope = the experiment id or the
 * exact registered-model name (`*` for MLflow's wildcard grants), tenant = the request's tenant.
 * MLflow's `DENY` (and the legacy `NO_PERMISSIONS` of MLflow 2.x tables) is a deny binding, which
 * in Gatehouse takes away every access to that resource.
 */
import type { BindingConfig, RoleConfig } from '../policy/config.ts';
import type { PolicyRepository, StoredBinding, StoredPolicy } from '../store/policy.ts';
import { LEVELS, type Level } from '../model/permission.ts';
import type { Family } from '../model/resource.ts';
import { callerError } from '../errors.ts';

export const GRANT_LEVELS = ['READ', 'USE', 'EDIT', 'MANAGE'] as const;
export type GrantLevel = (typeof GRANT_LEVELS)[number];
/** What MLflow 3.18 accepts on a resource grant (RESOURCE_GRANTABLE_PERMISSIONS). */
export type MlflowPermission = GrantLevel | 'DENY';

export const roleNameOf = (level: GrantLevel): string => `mlflow-${level.toLowerCase()}`;
const LEVEL_OF_ROLE = new Map<string, GrantLevel>(GRANT_LEVELS.map((l) => [roleNameOf(l), l]));
/** The role a deny binding names: any `mlflow-*` role denies the whole resource (engine.ts roleTouches). */
export const DENY_ROLE = roleNameOf('READ');

export const MLFLOW_ROLES: readonly RoleConfig[] = GRANT_LEVELS.map((level) => ({
  name: roleNameOf(level),
  description: `MLflow ${level} on one experiment or registered model (MLflow auth compatibility).`,
  levels: { experiment: level, model: level },
  operations: [],
  create: [],
}));

/** Resource types of MLflow 3.18's per-user grants that map onto Gatehouse scopes. */
export const SUPPORTED_RESOURCE_TYPES = ['experiment', 'registered_model', 'prompt'] as const;
export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

export const familyOfResourceType = (t: SupportedResourceType): Family => (t === 'experiment' ? 'experiment' : 'model');

export type ResourceRef = { readonly type: SupportedResourceType; readonly id: string };

/** Why a grant cannot be mapped (the caller turns it into INVALID_PARAMETER_VALUE or a skipped row). */
export class UnmappableGrant extends Error {
  override readonly name = 'UnmappableGrant';
}

/**
 * Canonical resource id, as MLflow stores grants (`canonical_resource_id`): experiment ids are
 * read with int(), so `01` names experiment 1. A registered-model name with `*` cannot be an exact
 * Gatehouse pattern (it would match other models), so it is refused rather than over-granted.
 */
export function canonicalResource(type: string, id: string): ResourceRef {
  if (!(SUPPORTED_RESOURCE_TYPES as readonly string[]).includes(type)) {
    throw new UnmappableGrant(`resource_type ${type} has no Gatehouse equivalent (supported: ${SUPPORTED_RESOURCE_TYPES.join(', ')})`);
  }
  const t = type as SupportedResourceType;
  if (id === '*') return { type: t, id };
  if (t === 'experiment') {
    const trimmed = id.trim();
    if (!/^[+-]?\d+$/.test(trimmed)) throw new UnmappableGrant('an experiment resource_id is a number or *');
    return { type: t, id: String(BigInt(trimmed)) };
  }
  if (id === '' || id.includes('*')) throw new UnmappableGrant('a registered model name for a grant must be non-empty and must not contain *');
  return { type: t, id };
}

export function parsePermission(p: unknown, options: { legacy?: boolean } = {}): MlflowPermission {
  if (p === 'DENY' || (options.legacy && p === 'NO_PERMISSIONS')) return 'DENY';
  if (typeof p === 'string' && (GRANT_LEVELS as readonly string[]).includes(p)) return p as GrantLevel;
  throw new UnmappableGrant(`permission must be one of ${[...GRANT_LEVELS, 'DENY'].join(', ')}`);
}

/** The binding for one MLflow grant. */
export function bindingFor(username: string, tenant: string, ref: ResourceRef, permission: MlflowPermission): BindingConfig {
  const scope =
    ref.type === 'experiment'
      ? { experiment: ref.id === '*' ? { namePattern: '*' } : { id: ref.id } }
      : { model: { namePattern: ref.id } };
  return {
    role: permission === 'DENY' ? DENY_ROLE : roleNameOf(permission),
    effect: permission === 'DENY' ? 'deny' : 'allow',
    user: username,
    tenant,
    ...scope,
  };
}

/** Whether a stored binding is an MLflow-style grant for this user, tenant and resource. */
function isGrantFor(b: BindingConfig, username: string, tenant: string, ref: ResourceRef): boolean {
  if (b.user !== username || b.tenant !== tenant || !LEVEL_OF_ROLE.has(b.role)) return false;
  if (ref.type === 'experiment') return ref.id === '*' ? b.experiment?.namePattern === '*' && b.experiment.id === undefined : b.experiment?.id === ref.id;
  return b.model?.namePattern === ref.id;
}

export function grantsFor(stored: StoredPolicy, username: string, tenant: string, ref: ResourceRef): StoredBinding[] {
  return stored.bindings.filter((s) => isGrantFor(s.binding, username, tenant, ref));
}

/** Every MLflow-style grant a user holds, in MLflow's `users/permissions/list` row shape. */
export function listGrants(stored: StoredPolicy, username: string): { id: string; tenant: string; resourceType: string; resourcePattern: string; permission: MlflowPermission }[] {
  return stored.bindings.flatMap(({ id, binding: b }) => {
    const level = LEVEL_OF_ROLE.get(b.role);
    if (b.user !== username || level === undefined || b.tenant === undefined) return [];
    const permission: MlflowPermission = b.effect === 'deny' ? 'DENY' : level;
    if (b.experiment) return [{ id, tenant: b.tenant, resourceType: 'experiment', resourcePattern: b.experiment.id ?? b.experiment.namePattern ?? '', permission }];
    if (b.model) return [{ id, tenant: b.tenant, resourceType: 'registered_model', resourcePattern: b.model.namePattern, permission }];
    return [];
  });
}

/** Creates the `mlflow-*` roles that are missing (declared roles of the same name are left alone). */
export async function ensureMlflowRoles(repo: PolicyRepository, stored: StoredPolicy, declared: readonly string[] = []): Promise<string[]> {
  const have = new Set([...stored.roles.map((r) => r.name), ...declared]);
  const created: string[] = [];
  for (const role of [...MLFLOW_ROLES, WORKSPACE_USE_ROLE]) {
    if (have.has(role.name)) continue;
    try {
      await repo.addRole(role);
      created.push(role.name);
    } catch (err) {
      // Another process created it between our read and our write: that is the goal.
      if (!(await repo.load()).roles.some((r) => r.name === role.name)) throw err;
    }
  }
  return created;
}

/** Levels in MLflow's order, highest first, for resolving an effective permission. */
export const LEVELS_DESCENDING: readonly GrantLevel[] = [...GRANT_LEVELS].reverse();
export const levelIsAtLeast = (have: Level, need: Level) => LEVELS.indexOf(have) >= LEVELS.indexOf(need);

/**
 * MLflow 3.18's resource types of a role permission and the grain of their patterns
 * (permissions.py `TYPE`): `id` types take an id, a name or `*`; the others only `*`.
 */
const ROLE_RESOURCE_TYPES: Readonly<Record<string, 'id' | 'wildcard'>> = {
  workspace: 'wildcard',
  experiment: 'id',
  registered_model: 'id',
  prompt: 'id',
  scorer: 'id',
  gateway_secret: 'id',
  gateway_endpoint: 'id',
  gateway_model_definition: 'id',
  mcp_server: 'id',
  skill: 'id',
  run: 'wildcard',
  trace: 'wildcard',
  assessment: 'wildcard',
  logged_model: 'wildcard',
  review_queue: 'wildcard',
  registered_model_version: 'wildcard',
  prompt_version: 'wildcard',
  scorer_version: 'wildcard',
  mcp_server_version: 'wildcard',
};

/** A permission MLflow accepts that Gatehouse's model cannot state without widening or narrowing it (NOT_IMPLEMENTED). */
export class InexpressibleGrant extends Error {
  override readonly name = 'InexpressibleGrant';
}

/** The answer to a grant that cannot be made: MLflow's refusal as INVALID_PARAMETER_VALUE, Gatehouse's as NOT_IMPLEMENTED; anything else as it is. */
export function grantRefusal(err: unknown): unknown {
  if (err instanceof UnmappableGrant) return callerError('GATEHOUSE_COMPAT_INVALID_PARAMETER', err.message);
  if (err instanceof InexpressibleGrant) return callerError('GATEHOUSE_COMPAT_NOT_IMPLEMENTED', err.message);
  return err;
}

/**
 * The role holders of `mlflow-workspace-use` get: MLflow's workspace `USE` is "member, may create,
 * receives default_permission" (permissions.py) — a tenant-scoped binding of this role makes the
 * subject a member of the tenant (so the tenant's `defaultRole` applies) and lets it create.
 */
export const WORKSPACE_USE_ROLE: RoleConfig = {
  name: 'mlflow-workspace-use',
  description: "MLflow's workspace USE: member of the tenant, may create experiments and registered models (MLflow auth compatibility).",
  levels: {},
  operations: [],
  create: ['experiment', 'model'],
};

const sorted = (xs: Iterable<string>) => `(${[...xs].sort().map((x) => `'${x}'`).join(', ')})`;

/**
 * The Gatehouse resource an MLflow grant's (resource_type, pattern) names — per-user grants and
 * role permissions alike — read by MLflow's rules (permissions.py `TYPE`, `canonical_resource_id`).
 * Throws UnmappableGrant for what MLflow refuses too (its messages), InexpressibleGrant for a type
 * MLflow accepts and Gatehouse cannot scope a grant by. Not for `workspace` (the callers' own rule).
 */
export function mlflowResource(type: string, pattern: string): ResourceRef {
  const grain = ROLE_RESOURCE_TYPES[type];
  if (grain === undefined) throw new UnmappableGrant(`Invalid resource type '${type}'. Valid resource types are: ${sorted(Object.keys(ROLE_RESOURCE_TYPES))}`);
  if (pattern !== '*' && grain === 'wildcard') {
    throw new UnmappableGrant(`Invalid resource_pattern '${pattern}' for resource_type='${type}'. This resource type supports only wildcard ('*') grants.`);
  }
  if (!(SUPPORTED_RESOURCE_TYPES as readonly string[]).includes(type)) {
    throw new InexpressibleGrant(
      grain === 'wildcard'
        ? `Gatehouse grants a level on an experiment or registered model together with everything in it (runs, traces, assessments, logged models, versions...); a grant on resource_type='${type}' alone cannot be stated. Grant on 'experiment' or 'registered_model' instead.`
        : `Gatehouse has no per-resource grants for resource_type='${type}'. Grant the 'gateway' family level of a Gatehouse role for AI Gateway resources, or ask a platform administrator; supported here: ${SUPPORTED_RESOURCE_TYPES.join(', ')}, and workspace USE.`,
    );
  }
  return canonicalResource(type, pattern);
}

/**
 * The binding that enforces MLflow role permission (type, pattern, permission) for the members of
 * `group` in `tenant`, validated with MLflow's own rules and messages (permissions.py
 * `_validate_permission_for_resource_type`, `_validate_resource_pattern`). Throws UnmappableGrant
 * for what MLflow refuses too, InexpressibleGrant for what MLflow accepts and Gatehouse cannot state.
 */
export function roleBindingFor(group: string, tenant: string, type: string, pattern: string, permission: string): { binding: BindingConfig; pattern: string } {
  const grain = ROLE_RESOURCE_TYPES[type];
  if (grain === undefined) throw new UnmappableGrant(`Invalid resource type '${type}'. Valid resource types are: ${sorted(Object.keys(ROLE_RESOURCE_TYPES))}`);
  if (type === 'workspace') {
    if (permission !== 'USE' && permission !== 'MANAGE') {
      throw new UnmappableGrant(`Invalid permission '${permission}' for resource_type='workspace'. Workspace-wide grants accept only: ('MANAGE', 'USE').`);
    }
  } else if (!(GRANT_LEVELS as readonly string[]).includes(permission) && permission !== 'DENY') {
    throw new UnmappableGrant(`Invalid permission '${permission}' for resource_type='${type}'. Resource-level grants accept only: ('DENY', 'EDIT', 'MANAGE', 'READ', 'USE').`);
  }
  if (type === 'workspace') {
    if (pattern !== '*') throw new UnmappableGrant(`Invalid resource_pattern '${pattern}' for resource_type='workspace'. This resource type supports only wildcard ('*') grants.`);
    if (permission === 'MANAGE') {
      throw new InexpressibleGrant(
        `Gatehouse has no workspace administrator: MLflow's workspace MANAGE (manage everything in workspace '${tenant}' and its roles and users) cannot be granted here. Grant a tenant-scoped Gatehouse role with MANAGE levels through Gatehouse's admin API or CLI instead; roles and users are managed by platform administrators.`,
      );
    }
    return { binding: { role: WORKSPACE_USE_ROLE.name, effect: 'allow', group, tenant }, pattern };
  }
  const ref = mlflowResource(type, pattern);
  const allow = bindingFor('-', tenant, ref, permission as MlflowPermission);
  const { user: _user, ...rest } = allow;
  return { binding: { ...rest, group }, pattern: ref.id };
}
