/**
 * The engine's input: what one call asks for. Built in one place (src/policy/access-request.ts)
 * for the gateway, `policy explain`, the permission matrix, who-can-access and the compat API.
 */
import type { Action, ResourceAction } from './permission.ts';
import type { Scope } from './policy.ts';
import type { Anchors, Family } from './resource.ts';

/** What one part of a call needs: a level (or creation) in a family, on some resources. */
export interface Check {
  readonly family: Family;
  readonly need: ResourceAction;
  /** Resources the check is about, resolved to what bindings name; undefined when unknown. */
  readonly anchors?: Anchors | undefined;
}

export interface AccessRequest {
  readonly op: string;
  readonly action: Action;
  readonly search: boolean;
  readonly tenant: string | undefined;
  readonly checks: readonly Check[];
  /** For workspace get/list: the workspace asked about. */
  readonly workspace?: string | undefined;
  /** A call of MLflow's workspace API (src/routes/mlflow/types.ts `workspaceApi`): members may list theirs and get one. */
  readonly workspaceApi?: 'list' | 'get' | 'manage';
  /** What the principal created (src/policy/ownership.ts): MANAGE there. */
  readonly owned?: readonly Scope[];
  /** The gateway can filter this search's results item by item (src/routes/mlflow/search-filter.ts). */
  readonly filterable?: boolean;
}

/** One read a GraphQL document makes, as its REST twin's operation on a family (anchors: the resources named, once resolved). */
export interface TwinRead {
  readonly op: string;
  readonly family: Family;
  readonly anchors: Anchors | undefined;
}
