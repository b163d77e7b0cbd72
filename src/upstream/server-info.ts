/**
 * What the MLflow server behind the gateway supports, read once from its discovery probe
 * (`GET /api/3.0/mlflow/server-info` → `{workspaces_enabled, ...}`, which answers even with a
 * bad workspace header). Until it has answered, requests that depend on it get 503.
 */
import { GatehouseError } from '../errors.ts';
import { parseAnswer, type Upstream } from './upstream.ts';

export interface ServerInfo {
  readonly workspacesEnabled: boolean;
}

export function serverInfoProbe(upstream: Upstream): () => Promise<ServerInfo> {
  let known: ServerInfo | undefined;
  let pending: Promise<ServerInfo> | undefined;
  const fetchOnce = async (): Promise<ServerInfo> => {
    const r = await upstream.get('/api/3.0/mlflow/server-info');
    if (r.status !== 200) throw new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', `server-info answered ${r.status}`);
    const body = parseAnswer(r.body, 'server-info', 'GATEHOUSE_UPSTREAM_BAD_RESPONSE');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', 'server-info answered 200 with something other than a JSON object');
    }
    return { workspacesEnabled: (body as { workspaces_enabled?: unknown }).workspaces_enabled === true };
  };
  return async () => {
    if (known) return known;
    pending ??= fetchOnce().finally(() => (pending = undefined));
    known = await pending;
    return known;
  };
}
