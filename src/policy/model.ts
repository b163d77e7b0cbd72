/**
 * The authorization model (DESIGN.md, "Authorization model"): MLflow's permission levels,
 * resource families, roles as named sets of grants, and bindings of roles to principals at
 * a scope. Pure data; the engine (engine.ts) decides over a snapshot of it.
 */
import type { ResourceKind } from '../routes/mlflow/types.ts';

/** MLflow's permission levels, in order (`mlflow/server/auth/permissions.py`). */
export const LEVELS = ['NO_PERMISSIONS', 'READ', 'USE', 'EDIT', 'MANAGE'] as const;
export type Level = (typeof LEVELS)[number];
export const levelRank = (l: Level): number => LEVELS.indexOf(l);

/**
 * What a grant is about. Children share their parent's family: runs, traces, logged models,
 * artifacts... are governed by their experiment; model versions and prompts by their registered
 * model (a prompt is a registered model tagged `mlflow.prompt.is_prompt`).
 */
export type Family = 'experiment' | 'model' | 'gateway' | 'other';
export const FAMILIES: readonly Family[] = ['experiment', 'model', 'gateway', 'other'];

const FAMILY_OF_KIND: Record<ResourceKind, Family> = {
  experiment: 'experiment',
  run: 'experiment',
  logged_model: 'experiment',
  trace: 'experiment',
  assessment: 'experiment',
  dataset: 'experiment',
  scorer: 'experiment',
  issue: 'experiment',
  label_schema: 'experiment',
  review_app: 'experiment',
  review_queue: 'experiment',
  prompt_optimization_job: 'experiment',
  artifact: 'experiment',
  registered_model: 'model',
  model_version: 'model',
  prompt: 'model',
  gateway_secret: 'gateway',
  gateway_endpoint: 'gateway',
  gateway_model_definition: 'gateway',
  gateway_budget: 'gateway',
  webhook: 'other',
  workspace: 'other',
  job: 'other',
  mcp_server: 'other',
  skill: 'other',
  server: 'other',
};

export function familyOfKind(kind: ResourceKind): Family {
  return FAMILY_OF_KIND[kind];
}

/** Operation-id prefixes for rows without a resource (creates, searches). */
const FAMILY_OF_OP: Record<string, Family> = {
  experiments: 'experiment',
  runs: 'experiment',
  metrics: 'experiment',
  artifacts: 'experiment',
  artifactsProxy: 'experiment',
  loggedModels: 'experiment',
  traces: 'experiment',
  assessments: 'experiment',
  datasets: 'experiment',
  scorers: 'experiment',
  issues: 'experiment',
  labelSchemas: 'experiment',
  reviewQueues: 'experiment',
  promptOptimization: 'experiment',
  registeredModels: 'model',
  modelVersions: 'model',
  prompts: 'model',
  gateway: 'gateway',
  gatewayEndpoints: 'gateway',
  gatewaySecrets: 'gateway',
  gatewayModelDefinitions: 'gateway',
  gatewayBudgets: 'gateway',
  gatewayGuardrails: 'gateway',
  gatewayDiscovery: 'gateway',
};

export function familyOfOp(op: string): Family {
  return FAMILY_OF_OP[op.slice(0, op.indexOf('.'))] ?? 'other';
}

/** A role: for each family the highest level it grants, plus single operations, plus creation rights. */
export interface Role {
  readonly name: string;
  readonly description: string;
  readonly levels: Partial<Record<Family, Level>>;
  /** Operation ids (exact, or `family.*`) allowed regardless of level. */
  readonly operations: readonly string[];
  /** Families in which holders may create top-level resources (experiments, registered models). */
  readonly create: readonly Family[];
  /** Platform administrator: every exposed route, every tenant. */
  readonly admin: boolean;
}

export const BUILTIN_ROLES: readonly Role[] = [
  {
    name: 'viewer',
    description: 'Read experiments, runs, traces, models and prompts.',
    levels: { experiment: 'READ', model: 'READ', gateway: 'READ' },
    operations: [],
    create: [],
    admin: false,
  },
  {
    name: 'contributor',
    description: 'Read and write experiments, runs, traces, models and prompts; create experiments and registered models; use gateway endpoints.',
    levels: { experiment: 'EDIT', model: 'EDIT', gateway: 'USE' },
    operations: [],
    create: ['experiment', 'model'],
    admin: false,
  },
  {
    name: 'model-approver',
    description: 'Viewer, plus register models, create model versions, set and delete aliases, transition stages.',
    levels: { experiment: 'READ', model: 'READ', gateway: 'READ' },
    operations: [
      'registeredModels.create',
      'registeredModels.setAlias',
      'registeredModels.deleteAlias',
      'modelVersions.create',
      'modelVersions.transitionStage',
      'modelVersions.update',
      'modelVersions.setTag',
    ],
    create: ['model'],
    admin: false,
  },
  {
    name: 'admin',
    description: 'Platform administrator: everything.',
    levels: { experiment: 'MANAGE', model: 'MANAGE', gateway: 'MANAGE', other: 'MANAGE' },
    operations: [],
    create: ['experiment', 'model', 'gateway', 'other'],
    admin: true,
  },
];

export type Subject = { readonly user: string } | { readonly group: string } | { readonly serviceAccount: string };

/** Where a binding applies. */
export type Scope =
  | { readonly kind: 'global' }
  | { readonly kind: 'tenant'; readonly tenant: string }
  | { readonly kind: 'experiment'; readonly tenant?: string; readonly id?: string; readonly namePattern?: string }
  | { readonly kind: 'model'; readonly tenant?: string; readonly namePattern?: string; readonly name?: string };

export interface Binding {
  readonly id: string;
  readonly role: string;
  readonly subject: Subject;
  readonly scope: Scope;
  readonly effect: 'allow' | 'deny';
  /** Where it was declared: `config` (reviewable in git) or `api`. */
  readonly source: 'config' | 'api';
}

export interface Tenant {
  readonly name: string;
  /** Role every member of the tenant gets (MLflow's `default_permission`); none by default. */
  readonly defaultRole?: string;
  readonly members: { readonly users: readonly string[]; readonly groups: readonly string[] };
}

/** Glob with `*` only, anchored. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}
