/**
 * A tenant's MLflow resources for the stub-upstream suites that name them in every place a route
 * reads an identifier (the tag-mode route sweep, the JSON body fuzz): their ids, the value one
 * identifier field of the route table takes for them, and one MLflow answer that holds every
 * message the gateway's lookups and response filters read.
 */
import { request } from 'node:http';
import type { IdSource } from '../../src/routes/mlflow/types.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';
import type { Recorded, StubUpstream } from './stub-upstream.ts';
import type { ResourceKind } from '../../src/model/resource.ts';

export interface ResourceIds {
  readonly experiment: string;
  readonly experimentName: string;
  readonly run: string;
  readonly loggedModel: string;
  readonly trace: string;
  readonly model: string;
}

/** The value of one identifier field naming `ids`' resource: where a handler reads a name, a name; else the id. */
export function idFieldValue(kind: ResourceKind, src: IdSource, index: number, ids: ResourceIds): string {
  const f = src.field;
  // A model version source is a URI naming the resource (models:/<name>/<v>, mlflow-artifacts:/<experiment>/...).
  if (src.reference === 'model-version-source') return kind === 'artifact' ? `mlflow-artifacts:/${ids.experiment}/${ids.run}/artifacts/model` : `models:/${ids.model}/1`;
  switch (kind) {
    case 'experiment':
      return f.includes('name') ? ids.experimentName : ids.experiment;
    case 'run':
      return ids.run;
    case 'logged_model':
      return ids.loggedModel;
    case 'trace':
      return ids.trace;
    case 'assessment':
      return index === 0 ? ids.trace : 'a-1';
    case 'registered_model':
    case 'prompt':
      return ids.model;
    case 'model_version':
      return index === 0 ? ids.model : '1';
    case 'artifact':
      // The proxied artifact path, `<experiment_id>/<run_id>/artifacts/...`, in the URL or the `path` parameter.
      return `${ids.experiment}/${ids.run}/artifacts/f.bin`;
    case 'scorer':
      return index === 0 ? ids.experiment : 'scorer-a';
    case 'review_queue':
      return f === 'experiment_id' ? ids.experiment : `${f}-1`;
    default:
      return `${f}-1`;
  }
}

/** One answer that is every MLflow message the gateway may read: each lookup finds its fields, every list holds the item. */
export function everyMessage(ids: ResourceIds, tags: readonly { key: string; value: string }[]): string {
  const experiment = { experiment_id: ids.experiment, name: ids.experimentName, lifecycle_stage: 'active', artifact_location: `mlflow-artifacts:/${ids.experiment}`, tags };
  const traceInfo = {
    trace_id: ids.trace,
    request_id: ids.trace,
    experiment_id: ids.experiment,
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ids.experiment } },
    tags: {},
  };
  const registeredModel = { name: ids.model, tags };
  const modelVersion = { name: ids.model, version: '1', run_id: ids.run };
  return JSON.stringify({
    experiment,
    run: { info: { run_id: ids.run, run_uuid: ids.run, experiment_id: ids.experiment, lifecycle_stage: 'active', artifact_uri: `mlflow-artifacts:/${ids.experiment}/${ids.run}/artifacts` }, data: {} },
    model: { info: { model_id: ids.loggedModel, experiment_id: ids.experiment, tags: [] } },
    trace: { trace_info: traceInfo },
    trace_info: traceInfo,
    registered_model: registeredModel,
    model_version: modelVersion,
    experiments: [experiment],
    registered_models: [registeredModel],
    model_versions: [modelVersion],
    runs: [{ info: { run_id: ids.run, experiment_id: ids.experiment } }],
    models: [{ info: { model_id: ids.loggedModel, experiment_id: ids.experiment } }],
    traces: [traceInfo],
  });
}

/** Sets a dotted field; a repeated field is a list, and a dotted repeated field crosses a list at its first segment. */
function setField(target: Record<string, unknown>, field: string, value: string, many: boolean): void {
  const parts = field.split('.');
  if (parts.length === 1) {
    target[field] = many ? [value] : value;
    return;
  }
  const leaf: Record<string, unknown> = {};
  let cur = leaf;
  for (const p of parts.slice(1, -1)) cur = (cur[p] = {}) as Record<string, unknown>;
  cur[parts.at(-1)!] = value;
  target[parts[0]!] = many ? [leaf] : leaf;
}

export interface Built {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** A concrete request for a route naming `ids` in every place the route's handler reads an identifier. */
export function requestNaming(row: RouteRow, template: string, ids: ResourceIds): Built {
  const query: [string, string][] = [];
  const json: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  const pathValues: Record<string, string> = {};
  for (const ref of row.resources ?? []) {
    ref.ids.forEach((src, index) => {
      const value = idFieldValue(ref.kind, src, index, ids);
      const where = src.in === 'params' ? (row.method === 'GET' || row.body !== 'json' ? 'query' : 'body') : src.in;
      if (where === 'path' || where === 'artifact-path') pathValues[src.field] = value;
      else if (where === 'header') headers[src.field] = value;
      else if (where === 'query') query.push([src.field, value]);
      else setField(json, src.field, value, src.many === true);
    });
  }
  if (row.op === 'experiments.create') json.name = 'made-by-caller';
  if (row.op === 'registeredModels.create') json.name = 'model-made-by-caller';
  if (row.op === 'graphql.query') {
    json.query = `{ mlflowGetRun(input: {runId: "${ids.run}"}) { run { info { runUuid } } } }`;
  }
  const path = template.replace(/\{([A-Za-z_]+)(:path)?\}/g, (_, name: string, isPath?: string) => pathValues[name] ?? (isPath ? 'a/b' : `${name}-1`));
  const qs = query.length ? `?${new URLSearchParams(query).toString()}` : '';
  let body: string | undefined;
  if (row.body === 'json') {
    body = JSON.stringify(json);
    headers['content-type'] = 'application/json';
  } else if (row.body === 'stream' && row.method !== 'GET') {
    body = 'bytes';
    headers['content-type'] = 'application/octet-stream';
  }
  return { path: `${path}${qs}`, headers, body };
}

export interface Sent {
  readonly status: number;
  readonly text: string;
  /** Everything the upstream received while the call was handled. */
  readonly upstream: Recorded[];
}

/** Sends a built request to the gateway at `url`, recording what `stub` received meanwhile. */
export function sendBuilt(url: string, stub: StubUpstream, method: string, b: Built, auth: Record<string, string>): Promise<Sent> {
  stub.requests.length = 0;
  const u = new URL(url);
  const headers: Record<string, string> = { ...b.headers, ...auth };
  if (b.body !== undefined) headers['content-length'] = String(Buffer.byteLength(b.body));
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: b.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), upstream: [...stub.requests] }));
    });
    req.on('error', reject);
    req.end(b.body);
  });
}

/** A call the gateway forwarded: the forward stage adds X-Forwarded-For; the gateway's own lookups do not. */
export const isForwarded = (r: Recorded): boolean => r.headers['x-forwarded-for'] !== undefined;
