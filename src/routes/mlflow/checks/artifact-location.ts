/**
 * `experiments/create` takes a client-chosen `artifact_location` (`handlers._create_experiment`
 * checks only its scheme); it could point into another tenant's artifact tree, and MLflow
 * refuses that only with workspaces on. Gatehouse refuses it in every tenancy mode: only a
 * platform administrator may choose where an experiment's artifacts live.
 */
import { GatehouseError } from '../../../errors.ts';
import type { RouteCheck } from '../types.ts';

export const artifactLocation: RouteCheck = {
  name: 'artifact-location',
  run({ json, admin }) {
    if (typeof json !== 'object' || json === null) return;
    const body = json as Record<string, unknown>;
    const location = body.artifact_location ?? body.artifactLocation;
    if (location === undefined || location === null || location === '' || admin) return;
    throw new GatehouseError('GATEHOUSE_AUTHZ_ARTIFACT_LOCATION', 'client-chosen artifact_location');
  },
};
