/**
 * Reads every resource identifier the route table names, from exactly where MLflow's handler
 * reads it (query for GET, JSON body otherwise, path parameter, header, artifact path).
 * The policy stage resolves children to parents; audit records what was touched.
 */
import { GatehouseError } from '../../errors.ts';
import type { IdSource, ResourceRef } from '../../routes/mlflow/types.ts';
import type { RequestContext, ResourceId, Stage } from '../context.ts';

export const extractResource: Stage = {
  name: 'extract-resource',
  run(ctx) {
    const row = ctx.route!.row;
    if (row.op.startsWith('artifacts.')) checkRunArtifactPath(ctx);
    if (row.op === 'modelVersions.create') checkModelVersionSource(ctx);
    const refs = row.resources;
    if (!refs) return;
    const out: ResourceId[] = [];
    refs.forEach((ref, index) => {
      // Several sources in one ref form one composite key (model version = name + version).
      const parts = ref.ids.map((source) => ({ source, values: readIds(ctx, source, ref.kind) }));
      const [first, ...rest] = parts;
      if (!first) return;
      if (holdsExperimentId(ref, first.source)) first.values.filter((v) => v !== 'skills').forEach(checkExperimentId);
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

/**
 * MLflow reads experiment ids with Python's `int()` (`validation._parse_experiment_id`), which
 * also takes `05`, `+5`, ` 5 `, `5_0` and non-ASCII digits (`５`), and treats an empty id as the
 * default experiment. Bindings and denies name ids in canonical form, so any other spelling
 * would reach the same experiment under a name no binding matches: it is refused.
 */
const CANONICAL_EXPERIMENT_ID = /^(0|[1-9][0-9]{0,18})$/;

function holdsExperimentId(ref: ResourceRef, source: IdSource): boolean {
  if (source.in === 'artifact-path' || ref.kind === 'artifact') return true;
  return (ref.kind === 'experiment' || ref.kind === 'scorer') && !source.field.includes('name');
}

function checkExperimentId(id: string): void {
  if (!CANONICAL_EXPERIMENT_ID.test(id)) throw new GatehouseError('GATEHOUSE_REQUEST_NONCANONICAL_ID', `experiment id ${JSON.stringify(id.slice(0, 40))}`);
}

/** The identifiers one source yields (none when the field is absent). */
export function readIds(ctx: RequestContext, source: IdSource, kind?: ResourceRef['kind']): string[] {
  const fields = source.alias ? [source.field, source.alias] : [source.field];
  for (const field of fields) {
    let ids = readField(ctx, source.in, field);
    // An artifact path given as a parameter (the list route's `path`) is read like a path parameter.
    if (kind === 'artifact' && source.in !== 'artifact-path') ids = ids.flatMap((p) => fromArtifactPath(p, undefined, ctx.tenant));
    // A model version's source read as a registered model: the one a models:/<name>/... URI copies from.
    if (kind === 'registered_model' && field === 'source') ids = ids.flatMap(registeredModelOfSource);
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
      return fromArtifactPath(ctx.route!.params[field], ctx.target!.query.get('path')?.[0], ctx.tenant);
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
 * MLflow percent-decodes the path again until it is stable (`uri.validate_path_is_safe` →
 * `_decode`) and reads the `workspaces` prefix case-insensitively, so anything that could read
 * differently after that is refused: `%`, `\\`, `#`, dot and empty segments, absolute paths, a
 * scheme, and another workspace's prefix. Skill Registry paths (`skills/...`) are named as such.
 */
function fromArtifactPath(pathParam: string | undefined, listPath: string | undefined, tenant: string | undefined): string[] {
  const p = pathParam ?? listPath;
  if (p === undefined) return [];
  const bad = (why: string): never => {
    throw new GatehouseError('GATEHOUSE_REQUEST_NONCANONICAL_ID', `artifact path: ${why}`);
  };
  if (/[%\\#\u0000-\u001f\u007f]/.test(p)) bad('reserved character');
  const parts = p.split('/');
  // A trailing slash (a directory) is fine; an empty segment elsewhere or a dot segment is not.
  if (parts.some((s, i) => s === '.' || s === '..' || (s === '' && i !== parts.length - 1) || (s === '' && i === 0))) bad('empty or dot segment');
  if (parts[0]!.toLowerCase() === 'workspaces') {
    if (parts[1] !== tenant) bad("another workspace's prefix");
    parts.splice(0, 2);
  }
  const first = parts[0];
  if (first === undefined || first === '') return bad('no experiment');
  return [first];
}

/**
 * Run-artifact routes take a relative `path` inside the run's artifact root (query, or JSON for
 * the presigned URLs). MLflow checks it (`validate_path_is_safe`) after decoding it again; the
 * gateway refuses the same shapes itself so no traversal depends on one check downstream.
 */
function checkRunArtifactPath(ctx: RequestContext): void {
  const body = ctx.json as Record<string, unknown> | undefined;
  const candidates = [...(ctx.target!.query.get('path') ?? []), body?.path];
  for (const p of candidates) {
    if (typeof p !== 'string' || p === '') continue;
    if (/[%\\#\u0000-\u001f\u007f]/.test(p) || p.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) || p.split('/').some((s) => s === '..' || s === '.')) {
      throw new GatehouseError('GATEHOUSE_REQUEST_NONCANONICAL_ID', 'run artifact path');
    }
  }
}

/**
 * A model version's `source` names what MLflow copies into the registry. `runs:/<run_id>/...` must
 * name the request's `run_id` (checked as a read on that run, as MLflow's auth
 * `validate_can_create_model_version` does), and a proxied `mlflow-artifacts:` URI must stay inside
 * the caller's workspace and name a canonical experiment, so a version cannot be built from
 * another tenant's artifacts.
 */
function checkModelVersionSource(ctx: RequestContext): void {
  const body = ctx.json as Record<string, unknown> | undefined;
  const source = body?.source;
  if (typeof source !== 'string') return;
  const refuse = (why: string): never => {
    throw new GatehouseError('GATEHOUSE_REQUEST_NONCANONICAL_ID', `model version source: ${why}`);
  };
  const runs = /^runs:\/([^/]*)(\/|$)/i.exec(source);
  if (runs) {
    const runId = body!.run_id ?? body!.runId;
    if (runs[1] !== runId) refuse('runs:/ URI names another run than run_id');
    return;
  }
  const proxied = /^mlflow-artifacts:(\/\/[^/]*)?\/?(.*)$/i.exec(source);
  if (proxied) {
    const [id] = fromArtifactPath(proxied[2], undefined, ctx.tenant);
    if (id !== undefined && id !== 'skills') checkExperimentId(id);
  }
}

/**
 * The registered model a `models:/<name>/<version|stage|latest>` or `models:/<name>@<alias>` source
 * names (`handlers._resolve_registered_model_source_lineage`, which copies that version);
 * none for `models:/<model_id>` (a logged model: `model_id` must name it) and other schemes.
 * MLflow splits the URI path without decoding it, and so does this.
 */
function registeredModelOfSource(source: string): string[] {
  const m = /^models:(.*)$/is.exec(source);
  if (!m) return [];
  const rest = m[1]!;
  if (rest.startsWith('//')) return []; // another registry: MLflow refuses it
  const path = rest.replace(/^\/+/, '');
  const name = /^([^/@]*)(?:[/@]|$)/.exec(path)![1]!;
  // A bare id (models:/m-...) is a logged model, read through model_id.
  if (name === '' || (!path.includes('/') && !path.includes('@'))) return [];
  return [name];
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
