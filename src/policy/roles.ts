/**
 * The built-in roles (docs/design.md, "Authorization model"). Pure data; the engine (engine.ts) decides over a snapshot of them.
 */
import type { Role } from '../model/policy.ts';

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
