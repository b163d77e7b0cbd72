/**
 * What a call needs, in MLflow's terms: the permission levels (`mlflow/server/auth/permissions.py`)
 * and the actions a route of the table names.
 */

/** MLflow's permission levels, in order. */
export const LEVELS = ['NO_PERMISSIONS', 'READ', 'USE', 'EDIT', 'MANAGE'] as const;
export type Level = (typeof LEVELS)[number];
export const levelRank = (l: Level): number => LEVELS.indexOf(l);

/**
 * What a caller needs to be allowed to make a call. Levels follow MLflow's permission
 * model (`NO_PERMISSIONS < READ < USE < EDIT < MANAGE`), plus:
 * - `create`: create a top-level resource (experiment, registered model, prompt, ...) in a tenant;
 * - `admin`: platform administrators only;
 * - `deny`: never forwarded, whoever asks (features Gatehouse does not expose);
 * - `authenticated`: any authenticated principal, no resource involved (server info, UI shell);
 * - `public`: no authentication at all (health probe, static UI assets).
 */
export type Action = 'public' | 'authenticated' | 'read' | 'use' | 'edit' | 'manage' | 'create' | 'admin' | 'deny';

/** The actions that are decided on resources (a level, or creation in a family). */
export type ResourceAction = Exclude<Action, 'public' | 'authenticated' | 'deny' | 'admin'>;

const RESOURCE_ACTIONS: ReadonlySet<Action> = new Set<Action>(['read', 'use', 'edit', 'manage', 'create']);
export const isResourceAction = (a: Action): a is ResourceAction => RESOURCE_ACTIONS.has(a);
