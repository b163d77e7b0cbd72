/**
 * Reads every resource identifier the route table names, from exactly where MLflow's handler
 * reads it (query for GET, JSON body otherwise, path parameter, header, artifact path).
 * The policy stage resolves children to parents; audit records what was touched.
 */
import type { IdSource } from '../../routes/mlflow/types.ts';
import type { RequestContext, ResourceId, Stage } from '../context.ts';

export const extractResource: Stage = {
  name: 'extract-resource',
  run(ctx) {
    const refs = ctx.route!.row.resources;
    if (!refs) return;
    const out: ResourceId[] = [];
    refs.forEach((ref, index) => {
      // Several sources in one ref form one composite key (model version = name + version).
      const parts = ref.ids.map((source) => ({ source, values: readIds(ctx, source) }));
      const [first, ...rest] = parts;
      if (!first) return;
      first.values.forEach((id, i) => {
        const key: Record<string, string> = { [first.source.field]: id };
        for (const p of rest) {
          const v = p.values[i] ?? p.values[0];
          if (v !== undefined) key[p.source.field] = v;
        }
        out.push({ kind: ref.kind, ref: index, id, key, from: `${first.source.in}:${first.source.field}` });
      });
    });
    ctx.resources = out;
  },
};

/** The identifiers one source yields (none when the field is absent). */
export function readIds(ctx: RequestContext, source: IdSource): string[] {
  const fields = source.alias ? [source.field, source.alias] : [source.field];
  for (const field of fields) {
    const ids = readField(ctx, source.in, field);
    if (ids.length > 0) return ids;
  }
  return [];
}

function readField(ctx: RequestContext, where: IdSource['in'], field: string): string[] {
  switch (where) {
    case 'params':
      return ctx.req.method === 'GET' ? fromQuery(ctx, field) : fromJson(ctx.json, field);
    case 'query':
      return fromQuery(ctx, field);
    case 'body':
      return fromJson(ctx.json, field);
    case 'path': {
      const v = ctx.route!.params[field];
      return v === undefined ? [] : [v];
    }
    case 'header': {
      const v = ctx.req.headers[field.toLowerCase()];
      return typeof v === 'string' ? [v] : [];
    }
    case 'artifact-path':
      return fromArtifactPath(ctx.route!.params[field], ctx.target!.query.get('path')?.[0]);
  }
}

function fromQuery(ctx: RequestContext, field: string): string[] {
  const q = ctx.target!.query;
  return [...(q.get(field) ?? q.get(camel(field)) ?? [])];
}

/** Dotted path through objects; arrays along the way fan out. Both spellings of each segment. */
function fromJson(json: unknown, dotted: string): string[] {
  let nodes: unknown[] = [json];
  for (const segment of dotted.split('.')) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null) continue;
      const rec = node as Record<string, unknown>;
      const v = rec[segment] ?? rec[camel(segment)];
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined && v !== null) next.push(v);
    }
    nodes = next;
  }
  return nodes.flatMap((v) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : []));
}

/**
 * Proxied artifact paths are `[workspaces/<ws>/]<experiment_id>/<run_id>/artifacts/...` under the
 * default artifact root (`handlers._get_workspace_scoped_repo_path_if_enabled`); the experiment
 * id is the first component after the optional workspace prefix. List calls pass it in `path`.
 */
function fromArtifactPath(pathParam: string | undefined, listPath: string | undefined): string[] {
  const p = pathParam ?? listPath;
  if (!p) return [];
  const parts = p.split('/');
  const first = parts[0] === 'workspaces' ? parts[2] : parts[0];
  return first ? [first] : [];
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
