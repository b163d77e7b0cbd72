/**
 * Reads every resource identifier the route table names, from exactly where MLflow's handler
 * reads it (query for GET, JSON body otherwise, path parameter, header, artifact path), and
 * checks every reference field the row lists (artifact paths, model version sources, run links)
 * with `routes/mlflow/references.ts`, the one reader of what MLflow parses as a URI or path.
 * The policy stage resolves children to parents; audit records what was touched.
 */
import { GatehouseError } from '../../errors.ts';
import { parsePyJson, PyNumber, pyJsonDumps, pyTypeName, type PyJson } from '../../lib/python-json.ts';
import {
  checkAttachmentPath,
  checkRelativeArtifactPath,
  checkRunLink,
  isPromptRequest,
  PROMPT_SOURCE_PLACEHOLDERS,
  readModelVersionSource,
  readProxiedArtifactPath,
  type ModelVersionSource,
} from '../../routes/mlflow/references.ts';
import type { IdSource, ReferenceField, ResourceRef } from '../../routes/mlflow/types.ts';
import type { Stage, Matched } from '../context.ts';
import type { ResourceId } from '../../model/resource.ts';

export const extractResource: Stage<'matched'> = {
  name: 'extract-resource',
  needs: 'matched',
  run(ctx) {
    const row = ctx.route.row;
    // MLflow checks the type of every JSON field before it reads any (`handlers._get_request_message`).
    if (ctx.json !== undefined) for (const ref of row.resources ?? []) for (const source of ref.ids) readIds(ctx, { ...source, reference: undefined });
    for (const field of row.references ?? []) checkReference(ctx, field);
    const refs = row.resources;
    if (!refs) return;
    const out: ResourceId[] = [];
    refs.forEach((ref, index) => {
      // Several sources in one ref form one composite key (model version = name + version).
      const parts = ref.ids.map((source) => ({ source, values: readIds(ctx, source, ref.kind) }));
      const [first, ...rest] = parts;
      if (!first) return;
      if (holdsExperimentId(ref, first.source)) for (const v of first.values) if (v !== 'skills') checkExperimentId(v);
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
export function readIds(ctx: Matched, source: IdSource, kind?: ResourceRef['kind']): string[] {
  const fields = source.alias ? [source.field, source.alias] : [source.field];
  for (const field of fields) {
    let ids = readField(ctx, source.in, field, source.many === true && !field.includes('.'));
    if (source.reference === 'proxied-artifact-path') ids = ids.map((p) => readProxiedArtifactPath(p, ctx.tenant));
    if (source.reference === 'model-version-source') ids = ids.flatMap((s) => namedBySource(ctx, s, kind));
    if (ids.length > 0) return ids;
  }
  return [];
}

/** The values of one field; `list`: the field itself is repeated (`experiment_ids`), not a field inside repeated messages (`metrics.model_id`). */
function readField(ctx: Matched, where: IdSource['in'], field: string, list = false): string[] {
  switch (where) {
    case 'params':
      return ctx.req.method === 'GET' ? fromQuery(ctx, field) : fromJson(ctx, field, list);
    case 'query':
      return fromQuery(ctx, field);
    case 'body':
      return fromJson(ctx, field, list);
    case 'path': {
      const v = ctx.route.params[field];
      return v === undefined ? [] : [v];
    }
    case 'header': {
      const v = ctx.req.headers[field.toLowerCase()];
      return typeof v === 'string' ? [v] : [];
    }
    case 'artifact-path': {
      const p = ctx.route.params[field];
      return p === undefined ? [] : [readProxiedArtifactPath(p, ctx.tenant)];
    }
  }
}

function fromQuery(ctx: Matched, field: string): string[] {
  const q = ctx.target.query;
  return [...(q.get(field) ?? q.get(camel(field)) ?? [])];
}

/**
 * Dotted path through objects; arrays along the way fan out. Both spellings of each segment.
 * Only strings are identifiers: protobuf's JSON reader refuses a number, boolean, list or object
 * in a string field, and MLflow answers `INVALID_PARAMETER_VALUE` (or, where its handler has no
 * type check, drops the field); the gateway never converts one into an id it then checks.
 */
function fromJson(ctx: Matched, dotted: string, list: boolean): string[] {
  let nodes: unknown[] = [ctx.json];
  const segments = dotted.split('.');
  segments.forEach((segment, depth) => {
    const last = depth === segments.length - 1;
    const next: unknown[] = [];
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null) continue;
      const rec = node as Record<string, unknown>;
      const v = rec[segment] ?? rec[camel(segment)];
      if (v === undefined || v === null) continue;
      if (last && !isId(v, list)) invalidIdType(ctx, dotted, list);
      // Input-sized arrays are iterated, never spread into a call (a 200,000-element push overflows the stack).
      if (Array.isArray(v)) for (const x of v) next.push(x);
      else next.push(v);
    }
    nodes = next;
  });
  const ids: string[] = [];
  for (const v of nodes) if (typeof v === 'string') ids.push(v);
  return ids;
}

/**
 * Refuses an identifier field that is not a string, in MLflow's own words
 * (`handlers._validate_param_against_schema` with `utils/validation.invalid_value`), quoting the
 * value as Python's `json.dumps` writes it (the body is read again, keeping each number's text).
 */
function invalidIdType(ctx: Matched, dotted: string, list: boolean): never {
  const value = ctx.body === undefined ? undefined : offendingValue(parsePyJson(ctx.body.toString('utf8')), dotted.split('.'), list);
  const message =
    value === undefined
      ? `Invalid value for parameter '${dotted}' supplied: it must be a string. See the API docs for more information about request parameters.`
      : `Invalid value ${pyJsonDumps(value)} for parameter '${dotted}' supplied:  Hint: Value was of type '${pyTypeName(value)}'. See the API docs for more information about request parameters.`;
  throw new GatehouseError('GATEHOUSE_REQUEST_INVALID_ID_TYPE', `${dotted} is not a string`, undefined, message);
}

/** A string, or for a repeated field a list of strings (a lone string there is read as one, a superset of what MLflow reads). */
const isId = (v: unknown, list: boolean) => typeof v === 'string' || (list && Array.isArray(v) && v.every((x) => typeof x === 'string'));
const isObject = (v: PyJson): v is { [key: string]: PyJson } => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyNumber);

/** The first value at a dotted path that is not an identifier, walked like fromJson. */
function offendingValue(body: PyJson, segments: readonly string[], list: boolean): PyJson | undefined {
  let nodes: PyJson[] = [body];
  for (const [depth, segment] of segments.entries()) {
    const next: PyJson[] = [];
    for (const node of nodes) {
      if (!isObject(node)) continue;
      const v = node[segment] ?? node[camel(segment)];
      if (v === undefined || v === null) continue;
      if (depth === segments.length - 1) {
        if (!isId(v, list)) return v;
      } else if (Array.isArray(v)) for (const x of v) next.push(x);
      else next.push(v);
    }
    nodes = next;
  }
  return undefined;
}

/** One reference field of the row, checked before anything else reads the request. */
function checkReference(ctx: Matched, field: ReferenceField): void {
  const fields = field.at.alias ? [field.at.field, field.at.alias] : [field.at.field];
  for (const name of fields) {
    for (const value of readField(ctx, field.at.in, name)) {
      switch (field.read) {
        case 'artifact-path':
          checkRelativeArtifactPath(value, name);
          break;
        case 'attachment-path':
          checkAttachmentPath(value);
          break;
        case 'run-link':
          checkRunLink(value);
          break;
        case 'model-version-source':
          checkModelVersionSource(ctx, value);
          break;
      }
    }
  }
}

/** A model version's source and what it is read as; none for a prompt version's placeholder. */
function sourceOf(ctx: Matched, source: string): ModelVersionSource | undefined {
  const body = (ctx.json ?? {}) as Record<string, unknown>;
  if (isPromptRequest(body.tags)) {
    // `_validate_prompt_source`: a prompt version's source is only ever a placeholder.
    if (!PROMPT_SOURCE_PLACEHOLDERS.has(source)) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE', 'prompt version source is not a placeholder');
    return undefined;
  }
  return readModelVersionSource(source);
}

/** What a source names, as one ref kind reads it: the registered model copied, or the proxied experiment. */
function namedBySource(ctx: Matched, source: string, kind: ResourceRef['kind'] | undefined): string[] {
  const read = sourceOf(ctx, source);
  if (read?.type === 'registered-model' && kind === 'registered_model') return [read.name];
  if (read?.type === 'proxied-artifact' && kind === 'artifact') return [readProxiedArtifactPath(read.path, ctx.tenant)];
  return [];
}

/**
 * The lineage a source claims must be the request's own, as `_validate_source_run` and
 * `_validate_source_model` demand: a `runs:/` source names `run_id`, a `models:/<model_id>`
 * source names `model_id`. An artifact location (proxied or not) must lie inside the root of the
 * run or logged model; that needs a lookup, done once the request is authorized
 * (`check-source-root`).
 */
function checkModelVersionSource(ctx: Matched, source: string): void {
  const read = sourceOf(ctx, source);
  if (read === undefined) return;
  const body = ctx.json as Record<string, unknown>;
  const runId = stringField(body, 'run_id');
  const modelId = stringField(body, 'model_id');
  const mismatch = (id: 'run_id' | 'model_id'): never => {
    throw new GatehouseError(
      'GATEHOUSE_REQUEST_UNRESOLVED_SOURCE',
      `${read.type} source does not name the request's ${id}`,
      undefined,
      `Invalid model version source: '${source}'. The ${id} request parameter must identify the resource that contains the source.`,
    );
  };
  switch (read.type) {
    case 'run':
      if (modelId !== '') mismatch('model_id');
      if (read.runId !== runId) mismatch('run_id');
      return;
    case 'logged-model':
      if (read.modelId !== modelId) mismatch('model_id');
      return;
    case 'registered-model':
      // MLflow compares run_id/model_id with the copied version itself, after the gateway authorized reading it.
      return;
    case 'proxied-artifact':
      ctx.sourceRoot = { source, uri: { scheme: 'mlflow-artifacts', authority: undefined, path: `/${read.path}` }, runId, modelId };
      return;
    case 'artifact-uri':
      ctx.sourceRoot = { source, uri: read.uri, runId, modelId };
  }
}

/** A string field of the body ('' when absent), as protobuf reads it. */
function stringField(body: Record<string, unknown>, field: string): string {
  const v = body[field] ?? body[camel(field)];
  return typeof v === 'string' ? v : '';
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
