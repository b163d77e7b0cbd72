/**
 * The family a route acts on when it names no resource (creates, searches): read from the
 * family part of its operation id. The map is total over the table's families (a new family in
 * the table does not compile until it is listed here); `other` is no resource family.
 */
import type { Family } from '../../model/resource.ts';
import type { Op, RouteRow } from './table.ts';

type OpFamily = Op extends `${infer F}.${string}` ? F : never;

const FAMILY: Readonly<Record<OpFamily, Family>> = {
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
  gateway: 'gateway',
  gatewayEndpoints: 'gateway',
  gatewaySecrets: 'gateway',
  gatewayModelDefinitions: 'gateway',
  gatewayBudgets: 'gateway',
  gatewayGuardrails: 'gateway',
  gatewayDiscovery: 'gateway',
  assistant: 'other',
  demo: 'other',
  genaiEvaluate: 'other',
  graphql: 'other',
  jobs: 'other',
  mcpServers: 'other',
  server: 'other',
  skills: 'other',
  ui: 'other',
  webhooks: 'other',
  workspaces: 'other',
};

export function familyOf(row: RouteRow): Family {
  return FAMILY[row.op.slice(0, row.op.indexOf('.')) as OpFamily];
}
