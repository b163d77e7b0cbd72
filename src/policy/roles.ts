/**
 * The built-in roles (docs/design.md, "Authorization model"), and the family of a route without
 * a resource. Pure data; the engine (engine.ts) decides over a snapshot of them.
 */
import type { Role } from '../model/policy.ts';
import type { Family } from '../model/resource.ts';

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
