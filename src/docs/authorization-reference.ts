/**
 * Renders docs/authorization.md: the model, the built-in roles, and the permission matrix
 * computed by the engine itself for every row of the route table.
 */
import { decide } from '../policy/engine.ts';
import { buildSnapshot } from '../policy/snapshot.ts';
import { describedPrincipal } from '../identity/local-names.ts';
import type { RouteRow } from '../routes/mlflow/types.ts';
import { concretePaths } from '../routes/mlflow/expand.ts';
import type { Check } from '../model/access.ts';
import { REASONS } from '../model/decision.ts';
import type { Principal } from '../model/principal.ts';
import { familyOfKind } from '../model/resource.ts';
import { BUILTIN_ROLES, familyOfOp } from '../policy/roles.ts';

const NEEDS = new Set(['read', 'use', 'edit', 'manage', 'create']);

function checksFor(row: RouteRow): Check[] {
  if (!NEEDS.has(row.action)) return [];
  const refs = row.resources ?? [];
  const checks = refs.map((r) => ({ family: familyOfKind(r.kind), need: (r.action ?? row.action) as Check['need'] }));
  return checks.length > 0 ? checks : [{ family: familyOfOp(row.op), need: row.action as Check['need'] }];
}

export function renderAuthorizationMarkdown(rows: readonly RouteRow[]): string {
  const roles = BUILTIN_ROLES.map((r) => r.name);
  const snapshot = buildSnapshot({
    tenants: [{ name: 'team', members: { users: roles.map((r) => `as-${r}`), groups: [] } }],
    groups: [],
    roles: [],
    bindings: roles.map((role) => ({ role, effect: 'allow' as const, user: `as-${role}`, ...(role === 'admin' ? {} : { tenant: 'team' }) })),
  });
  const principal = (name: string): Principal => describedPrincipal(name, { kind: 'user', method: 'basic', provider: 'x' });
  const cell = (row: RouteRow, role: string) => {
    const d = decide(snapshot, principal(`as-${role}`), { op: row.op, action: row.action, search: row.tenancy === 'search', tenant: 'team', checks: checksFor(row), ...(row.op === 'workspaces.get' && { workspace: 'team' }) });
    return d.effect === 'allow' ? '✓' : '·';
  };
  const lines = [
    '# Authorization',
    '',
    '<!-- Generated from src/policy and src/routes/mlflow/table.ts by `npm run gen:docs`; a test fails when it is stale. Do not edit by hand. -->',
    '',
    'Every MLflow call goes through one decision (`src/policy/engine.ts`), a pure function over an in-memory snapshot of',
    'tenants, roles and bindings: no database round trip per request.',
    '',
    '## The model',
    '',
    "- **Permission levels** are MLflow's: `NO_PERMISSIONS < READ < USE < EDIT < MANAGE`, plus platform administrator.",
    '  Every row of the route table ([routes.md](routes.md)) names the action it needs: `read`, `use`, `edit`, `manage`,',
    '  `create` (a new experiment or registered model), `admin` (platform administrators), `authenticated` (any signed-in',
    '  principal, no resource), `public` (no authentication) or `deny` (never forwarded).',
    '- **Families.** A level is granted per family: `experiment` (experiments and everything in them: runs, metrics,',
    '  artifacts, traces, assessments, logged models, datasets, scorers), `model` (registered models, versions, aliases,',
    '  prompts), `gateway` (AI gateway endpoints), `other`.',
    '- **Roles** are named sets of grants: a level per family, single operations (by operation id), and creation rights.',
    '  Built in:',
    '',
    '| role | experiment | model | gateway | creates | extra operations |',
    '|---|---|---|---|---|---|',
    ...BUILTIN_ROLES.map((r) => `| \`${r.name}\` | ${r.levels.experiment ?? '—'} | ${r.levels.model ?? '—'} | ${r.levels.gateway ?? '—'} | ${r.create.join(', ') || '—'} | ${r.operations.map((o) => `\`${o}\``).join(', ') || '—'} |`),
    '',
    '- **Bindings** give a role to a user, a group (from the IdP, LDAP, or local `groups`) or a service account, at a',
    '  scope: global, a tenant, an experiment (by id or name pattern) or registered models/prompts (by name pattern). A',
    '  binding with `effect: deny` wins over every allow: at its scope it takes away every access in the families its role',
    '  grants anything in (denying `viewer` on an experiment denies writing and deleting it too). A tenant may give all its',
    '  members a `defaultRole`.',
    '- **Who a binding names: an identity, never a display name.** A binding\'s `user` or `serviceAccount`, a tenant\'s',
    '  `members.users` and a local group\'s `members` name a principal either by its identity, `<provider id>:<subject>`',
    '  — exactly its principal id in the audit log: `corp:8f2c…` for an OIDC subject, `ldap:alice` (or the DN, or',
    '  `identityAttribute`), `mtls:team-a-trainer`, `proxy:alice` — or by a **local name** without `:` (`alice`, `ci`),',
    '  which is the local user or Gatehouse service account of that name: its password, its API tokens and its browser',
    '  sessions. A name an identity provider asserts (`preferred_username`, an LDAP `uid`, a proxy\'s user header) is a',
    '  local name only for providers configured with `assertsLocalNames: true` ([identity.md](identity.md), "Names and',
    '  identities"); otherwise a token whose `preferred_username` is `alice` — from any issuer — gets nothing that',
    '  names `alice`. Two providers cannot share an id. At start, every local name in the policy that is no local user',
    '  or service account is logged as a warning with the fix (`user: <provider id>:<subject>`, or `assertsLocalNames`).',
    '  `gatehouse policy explain --principal corp:8f2c…` (or the admin API\'s `POST /policy/explain`) asks about an',
    '  identity; `--principal alice` about the local user.',
    '- **Creators get MANAGE** on the experiments and registered models (and prompts) they create, in that tenant: the',
    '  gateway records the creator from MLflow\'s answer to the create call (store table `resource_owners`).',
    '- **Default deny.** No grant, no access. An unresolvable resource, a failed lookup or an unknown role never grants;',
    '  a resource-scoped deny also covers a resource that could not be resolved, and any search in its family.',
    '- **Tenants** are MLflow workspaces. A client may pick one of its own tenants with `X-MLFLOW-WORKSPACE` (the MLflow',
    '  client sends `MLFLOW_WORKSPACE`); otherwise `tenancy.defaultTenant`, else its first tenant, applies. Gatehouse sets',
    '  the header MLflow receives; any other value is refused (403). MLflow then scopes every query to that workspace, so an',
    "  id from another tenant answers exactly like one that does not exist (`RESOURCE_DOES_NOT_EXIST`). The workspace list",
    "  is filtered to the caller's tenants; creating, updating and deleting workspaces is for administrators.",
    '- **Instance mode** (`tenancy.mode: instance`): each tenant has its own MLflow (`tenants[].mlflowUrl`, one keep-alive',
    '  pool each). The tenant is resolved the same way and selects the upstream; no workspace header is sent.',
    '- **Tenants as workspaces without MLflow workspaces** (instance and tag mode): Gatehouse answers `server-info` with',
    '  `workspaces_enabled: true` and serves the workspace list and get routes from the policy (the caller\'s tenants, all',
    '  of them for administrators), so `MLFLOW_WORKSPACE` and the UI\'s workspace picker choose the tenant; creating,',
    '  changing or deleting a workspace there is refused (tenants live in Gatehouse: admin API, CLI, configuration).',
    '- **Tag mode** (`tenancy.mode: tag`; any MLflow, with or without workspaces; src/policy/tag-tenancy.ts): an experiment or',
    '  registered model (prompts included) belongs to the tenant its tag `tenancy.tagKey` (default `gatehouse.tenant`) names.',
    '  For principals who are not platform administrators:',
    '  - `experiments/create` and `registered-models/create` get the tag of the caller\'s tenant added to their body;',
    '  - every call that names an experiment, run, logged model, trace, assessment, artifact path, scorer, registered model,',
    '    model version or prompt has its roots looked up in MLflow with their tags (experiment facts cached by id for 30 s,',
    '    registered models never cached: names are reused); another tenant\'s root, or one without the tag (MLflow\'s',
    '    Default experiment, anything created behind the gateway), answers exactly like a missing one (404',
    '    `RESOURCE_DOES_NOT_EXIST`, same body); cross references (a version\'s source run, ...) are checked the same way;',
    '  - a call that names nothing whose tag can be checked is refused (403): a `runs/create` without `experiment_id`, a',
    '    `runs/search` without experiment ids, dataset/issue/label-schema routes addressed by their own ids, GraphQL fields',
    '    that search without naming an experiment;',
    '  - `experiments/search` and `registered-models/search`: the caller\'s `filter` is parsed with MLflow\'s grammar',
    '    (src/routes/mlflow/filter-grammar.ts; a filter it cannot parse safely is refused with 400) and re-sent with',
    "    `AND tags.`<tagKey>` = '<tenant>'`; `model-versions/search` is filtered by each version's model's tag; in all three",
    '    every result is checked again and pages are refilled (gateway page tokens), so pages are complete;',
    '  - no route may set or delete the tag key (compared without case and surrounding blanks) for them: every `key` /',
    '    `tag_key` and `tags` a request carries is read, whatever the route (403 `GATEHOUSE_AUTHZ_TENANT_TAG`).',
    '  Platform administrators are not bound to the tag: they may read untagged resources and move a resource between',
    '  tenants by setting its tag (effective at once on the replica that served the change, within 30 s on the others).',
    '  Their creates are stamped with the tenant they act in. Names are one namespace in tag mode: creating an experiment',
    '  or model whose name another tenant uses answers "already exists" (use workspace mode where that matters).',
    '',
    '## Configuration example: the three-group set-up',
    '',
    '```yaml',
    'tenants:',
    '  - name: team-a                 # an MLflow workspace',
    '    members: { groups: [team-a] }',
    'bindings:',
    '  - { role: admin, group: admins }                             # everything, everywhere',
    '  - { role: viewer, group: readers, tenant: team-a }           # read only',
    '  - { role: model-approver, group: model-approvers, tenant: team-a }',
    '  - { role: contributor, group: team-a-ds, tenant: team-a }',
    '  - { role: contributor, effect: deny, user: intern, experiment: { namePattern: "prod-*" }, tenant: team-a }',
    '```',
    '',
    '## Reason ids',
    '',
    'Every decision carries reason ids; logs, audit events and `gatehouse policy explain` use the same ones.',
    '',
    '| reason | meaning |',
    '|---|---|',
    ...Object.entries(REASONS).map(([id, text]) => `| \`${id}\` | ${text} |`),
    '',
    '## Permission matrix',
    '',
    'What each built-in role may do when bound at tenant scope (admin: globally), computed by the engine for every route',
    '(✓ allowed, · denied). Resource-scoped bindings narrow this to matching experiments or models.',
    '',
    `| operation | method | path | action | ${roles.join(' | ')} |`,
    `|---|---|---|---|${roles.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| \`${row.op}\` | ${row.method} | \`${concretePaths(row)[0]}\` | ${row.action} | ${roles.map((r) => cell(row, r)).join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}
