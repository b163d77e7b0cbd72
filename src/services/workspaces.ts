/**
 * A tenant's MLflow workspace (workspace tenancy), as the tenants service makes and removes it:
 * MLflow 3.18's workspace API (mlflow/server/handlers.py `_create_workspace_handler`,
 * `_delete_workspace_handler`), called by the gateway itself, never on a client's behalf.
 *
 * - create: `POST /api/3.0/mlflow/workspaces {"name"}`; 201 made, RESOURCE_ALREADY_EXISTS adopted
 *   (idempotent); anything else MLflow says is a refusal naming MLflow's reason.
 * - delete: `DELETE /api/3.0/mlflow/workspaces/<name>?mode=RESTRICT` (MLflow refuses while the
 *   workspace holds experiments, models or other resources) or, forced, `mode=CASCADE` (MLflow
 *   deletes them with it); a workspace that is already gone is fine.
 *
 * An MLflow without workspaces serves only `default`: making any other tenant is refused.
 * MLflow 3.18 answers a refusal for resources still in a workspace (INVALID_STATE) with HTTP 500
 * (`mlflow/exceptions.py` ERROR_CODE_TO_HTTP_STATUS): the error code, not the status, says it is a
 * refusal rather than a failure (docs/mlflow-notes.md).
 */
import { callerError, GatehouseError } from '../errors.ts';
import { parseAnswer } from '../upstream/upstream.ts';
import type { Upstreams } from '../upstream/upstreams.ts';

export interface Workspaces {
  /** Makes the workspace, or adopts the one that exists. */
  create(name: string): Promise<'created' | 'existed'>;
  /** Removes the workspace (with what it holds only when forced). */
  delete(name: string, options: { readonly force: boolean }): Promise<'deleted' | 'absent'>;
}

const PATH = '/api/3.0/mlflow/workspaces';
const MAX_ANSWER = 1 << 20;

const refused = (what: string, detail: string) => callerError('GATEHOUSE_ADMIN_MLFLOW_REFUSED', `MLflow refused to ${what}: ${detail}`);

/** MLflow's error codes that mean "no" (the request, the name or the workspace's state), whatever the status. */
const REFUSALS = new Set(['INVALID_PARAMETER_VALUE', 'INVALID_STATE', 'RESOURCE_CONFLICT', 'FEATURE_DISABLED', 'NOT_IMPLEMENTED', 'BAD_REQUEST', 'PERMISSION_DENIED']);

/** MLflow's error, or the upstream failure it is when it is not one of MLflow's refusals. */
function mlflowError(status: number, body: Buffer, what: string): { code: string; message: string } {
  const a = parseAnswer(body.toString('utf8'), 'the workspace API', 'GATEHOUSE_UPSTREAM_BAD_RESPONSE') as { error_code?: unknown; message?: unknown } | null;
  const code = typeof a?.error_code === 'string' ? a.error_code : 'UNKNOWN';
  if (status >= 500 && !REFUSALS.has(code)) throw new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', `${what} answered ${status} ${code}`);
  return { code, message: typeof a?.message === 'string' ? a.message.slice(0, 500) : 'no message' };
}

/** `upstreams` is asked for on first use (the CLI opens no connection for commands that need none). */
export function mlflowWorkspaces(upstreams: () => Upstreams): Workspaces {
  const mlflow = () => upstreams().forTenant(undefined);
  async function enabled(name: string): Promise<void> {
    if (!(await upstreams().canServe(name))) {
      throw refused(`serve workspace ${name}`, `the MLflow at ${mlflow().url} has no workspaces (start it with --enable-workspaces, or use tenancy.mode tag)`);
    }
  }
  return {
    async create(name) {
      await enabled(name);
      if (name === 'default') return 'existed';
      const r = await mlflow().forwardBuffered({ method: 'POST', path: PATH, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: Buffer.from(JSON.stringify({ name })) }, MAX_ANSWER);
      if (r.status === 201 || r.status === 200) return 'created';
      const e = mlflowError(r.status, r.body, 'workspace create');
      if (e.code === 'RESOURCE_ALREADY_EXISTS') return 'existed';
      throw refused(`create workspace ${name}`, `${e.code}: ${e.message}`);
    },
    async delete(name, { force }) {
      if (name === 'default') throw refused('delete workspace default', 'it is reserved');
      if (!(await upstreams().canServe(name))) return 'absent';
      const mode = force ? 'CASCADE' : 'RESTRICT';
      const r = await mlflow().forwardBuffered({ method: 'DELETE', path: `${PATH}/${encodeURIComponent(name)}?mode=${mode}`, headers: { accept: 'application/json' }, body: null }, MAX_ANSWER);
      if (r.status === 204 || r.status === 200) return 'deleted';
      const e = mlflowError(r.status, r.body, 'workspace delete');
      if (e.code === 'RESOURCE_DOES_NOT_EXIST') return 'absent';
      throw refused(`delete workspace ${name}`, `${e.code}: ${e.message}${force ? '' : ' (force the removal to delete the workspace with everything in it)'}`);
    },
  };
}
