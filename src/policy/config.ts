/**
 * Config-as-code for the policy: tenancy, tenants, groups, roles and bindings declared in
 * the YAML file (reviewable in git). The snapshot builder turns them into the engine's model.
 */
import { z } from 'zod';
import { IDENTITY, LOCAL_NAME } from '../identity/local-names.ts';
import { LEVELS } from '../model/permission.ts';
import { FAMILIES } from '../model/resource.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/, 'letters, digits and . _ @ : - (at most 128)');
/**
 * A principal as the policy names it (src/identity/local-names.ts): an identity
 * `<provider id>:<subject>` (the principal id in audit and logs), or a local user or service
 * account name without `:`.
 */
const principalRef = z
  .string()
  .refine((v) => LOCAL_NAME.test(v) || IDENTITY.test(v), 'a principal: `<provider id>:<subject>` (its id, as in the audit log), or a local user or service account name (letters, digits and . _ @ -, at most 128)');
/** MLflow workspace names (`mlflow/utils/workspace_utils.py`): a DNS label, 2–63 characters. */
const tenantName = z.string().regex(/^(?!.*--)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])$/, 'an MLflow workspace name: lowercase letters, digits and -, 2–63 characters');

export const tenancySchema = z
  .strictObject({
    mode: z
      .enum(['workspace', 'tag', 'instance'])
      .default('workspace')
      .describe('`workspace`: a tenant is an MLflow workspace (MLflow >= 3.10 with --enable-workspaces, or `default` only without it); Gatehouse owns the X-MLFLOW-WORKSPACE header. `tag`: one MLflow of any version, with or without workspaces; experiments and registered models carry the tenant tag (`tagKey`), stamped at creation, checked on every call, added to every search, writable only by platform administrators. `instance`: each tenant has its own MLflow (`tenants[].mlflowUrl`); isolation is physical.'),
    tagKey: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,249}$/, 'letters, digits, _ . - (at most 250)')
      .default('gatehouse.tenant')
      .describe('Tag mode: the experiment and registered-model tag that names the owning tenant. Platform administrators alone may set or delete it (on any resource); resources without it belong to no tenant (administrators only).'),
    defaultTenant: tenantName
      .optional()
      .describe('Tenant used when a caller names none and belongs to several; without it, the first of its tenants in configuration order.'),
  })
  .prefault({});

export const tenantSchema = z.strictObject({
  name: tenantName.describe('Tenant name = MLflow workspace name (`default` is MLflow\'s default workspace).'),
  mlflowUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('Instance mode: the base URL of this tenant\'s own MLflow (required there, refused in workspace mode).'),
  defaultRole: name.optional().describe('Role every member gets in this tenant (MLflow\'s default_permission). None by default: members see nothing until granted.'),
  members: z
    .strictObject({
      users: z
        .array(principalRef)
        .default([])
        .describe('Principals: `<provider id>:<subject>` identities (`corp:8f2c…`, `ldap:alice`), or local user and service account names (which name IdP users only for providers with `assertsLocalNames`).'),
      groups: z.array(name).default([]).describe('Group names (from the IdP, LDAP, or `groups` below).'),
    })
    .prefault({}),
});

export const groupSchema = z.strictObject({
  name,
  members: z
    .array(principalRef)
    .default([])
    .describe('Principals (identities `<provider id>:<subject>`, or local names) that belong to this group in addition to what the identity provider says.'),
});

export const roleSchema = z.strictObject({
  name,
  description: z.string().default(''),
  levels: z
    .partialRecord(z.enum(FAMILIES as [string, ...string[]]), z.enum(LEVELS))
    .default({})
    .describe('Highest MLflow permission level per family: experiment (runs, traces, artifacts, ...), model (registered models, versions, prompts), gateway, other.'),
  operations: z.array(z.string()).default([]).describe('Operation ids (docs/routes.md) allowed regardless of level; `family.*` allows a whole family.'),
  create: z.array(z.enum(FAMILIES as [string, ...string[]])).default([]).describe('Families in which the role may create experiments / registered models.'),
});

const subjectFields = {
  user: principalRef.optional().describe('A user: `<provider id>:<subject>` (its principal id), or a local user name.'),
  group: name.optional().describe('A group, from the identity provider or LDAP, or local (`groups`).'),
  serviceAccount: principalRef.optional().describe('A service account: `<provider id>:<subject>`, or the name of a Gatehouse service account (API tokens).'),
};

export const bindingSchema = z
  .strictObject({
    role: name.describe('A built-in role (viewer, contributor, model-approver, admin) or one declared under `roles`.'),
    effect: z.enum(['allow', 'deny']).default('allow').describe('A deny binding wins over every allow.'),
    ...subjectFields,
    tenant: tenantName.optional().describe('Scope: one tenant. Omitted (with no experiment/model): every tenant (global).'),
    experiment: z
      .strictObject({ id: z.string().regex(/^(0|[1-9]\d*)$/, 'a canonical experiment id (no leading zeros)').optional(), namePattern: z.string().optional() })
      .optional()
      .describe('Scope: one experiment by id, or experiments whose name matches a `*` pattern (with `tenant`, within that tenant).'),
    model: z
      .strictObject({ namePattern: z.string() })
      .optional()
      .describe('Scope: registered models or prompts whose name matches a `*` pattern.'),
  })
  .superRefine((b, ctx) => {
    const subjects = [b.user, b.group, b.serviceAccount].filter((s) => s !== undefined);
    if (subjects.length !== 1) ctx.addIssue({ code: 'custom', message: 'exactly one of user, group, serviceAccount' });
    if (b.experiment && b.model) ctx.addIssue({ code: 'custom', message: 'at most one of experiment, model' });
    if (b.experiment && b.experiment.id === undefined && b.experiment.namePattern === undefined) {
      ctx.addIssue({ code: 'custom', path: ['experiment'], message: 'id or namePattern is required' });
    }
  });

export const policySchemaFields = {
  tenancy: tenancySchema,
  tenants: z.array(tenantSchema).default([{ name: 'default', members: { users: [], groups: [] } }]).describe('Tenants (MLflow workspaces) and their members.'),
  groups: z.array(groupSchema).default([]).describe('Local groups: principals added to a group on top of IdP/LDAP groups.'),
  roles: z.array(roleSchema).default([]).describe('Custom roles, in addition to the built-in viewer, contributor, model-approver and admin.'),
  bindings: z.array(bindingSchema).default([]).describe('Role bindings: who gets which role where. Explicit deny wins; otherwise default deny.'),
};

export type TenantConfig = z.infer<typeof tenantSchema>;
export type RoleConfig = z.infer<typeof roleSchema>;
export type BindingConfig = z.infer<typeof bindingSchema>;
export type GroupConfig = z.infer<typeof groupSchema>;
