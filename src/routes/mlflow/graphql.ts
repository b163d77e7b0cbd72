/**
 * GraphQL inspection for `POST /graphql` (MLflow's `handlers._graphql`). MLflow answers GraphQL
 * with the same `*_impl` functions as its REST routes, so every root field is held to the rules
 * of its REST twin: `mlflowGetRun` is `runs.get` on that run, `mlflowSearchRuns` is `runs.search`
 * in those experiments, and so on. The request is parsed and validated with the reference
 * `graphql` library against MLflow's own schema (graphql-schema.ts); then every field of every
 * operation — through aliases, named and inline fragments, with arguments taken from literals and
 * from variables — is classified by the table below:
 *
 * - a root field that reads resources becomes a use of its REST twin on the ids it names
 *   (resolved later in the caller's tenant, like any REST id);
 * - a nested field that reaches another resource (a run's `modelVersions`, a model version's
 *   source run or logged model) becomes a use that needs the whole family in the tenant;
 * - a nested field that stays inside the resource already checked is plain data;
 * - introspection (`__schema`, `__type`, `__typename`) names no resource;
 * - anything else is refused: an unknown field is a validation error (400), a known field the
 *   table does not classify is refused as unsupported (403). Fail closed.
 *
 * MLflow reads only a JSON object body (`request_json.get("query")`): a batched (array) body
 * fails there, and the read-body stage refuses it before this module runs.
 */
import { createRequire } from 'node:module';
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLField,
  GraphQLObjectType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import { GatehouseError } from '../../errors.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { ResourceRef } from './types.ts';
import { MLFLOW_GRAPHQL_SDL } from './graphql-schema.ts';
import type { TwinRead } from '../../model/access.ts';
import type { ResourceId, Family } from '../../model/resource.ts';

export interface GraphqlLimits {
  readonly maxDepth: number;
  readonly maxFields: number;
}

/** One thing a GraphQL request reads, as the REST operation that reads the same. */
export interface GraphqlUse {
  /** Where in the document: `OperationName.alias:field.child`. */
  readonly path: string;
  /** The REST twin's operation id (`runs.get`); policy applies as for that route. */
  readonly op: string;
  readonly family: Family;
  /** The resources named, by kind; absent: the whole family in the caller's tenant. */
  readonly resource?: { readonly kind: 'experiment' | 'run'; readonly ids: readonly string[] };
}

export interface GraphqlInspection {
  /** Operations in the document, as `query Name` / `mutation (anonymous)`. */
  readonly operations: readonly string[];
  readonly uses: readonly GraphqlUse[];
  /** Whether the document asks about the schema (`__schema`, `__type`). */
  readonly introspection: boolean;
  /** Field selections counted, fragments expanded. */
  readonly fields: number;
}

/** How a field is treated. */
type Rule =
  /** Plain data of the resource its parent was checked for (or no resource at all). */
  | { readonly kind: 'data'; readonly why?: string }
  /** A root field answered by a REST handler: a use of that operation on the ids its input names. */
  | { readonly kind: 'root'; readonly op: string; readonly family: Family; readonly ids?: { readonly resource: 'experiment' | 'run'; readonly fields: readonly string[] } }
  /** A nested field that reaches other resources: a use that needs the family tenant-wide. */
  | { readonly kind: 'reach'; readonly op: string; readonly family: Family; readonly why: string };

const data = (...fields: string[]): Record<string, Rule> => Object.fromEntries(fields.map((f) => [f, { kind: 'data' }]));

const SEARCH_RUNS: Rule = { kind: 'root', op: 'runs.search', family: 'experiment', ids: { resource: 'experiment', fields: ['experimentIds'] } };

/** Every field of every object type of MLflow 3.18.0's schema (a unit test keeps the two in step). */
export const FIELD_RULES: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  Query: {
    mlflowGetExperiment: { kind: 'root', op: 'experiments.get', family: 'experiment', ids: { resource: 'experiment', fields: ['experimentId'] } },
    // get_run_impl reads `run_id or run_uuid`; both are checked when both are sent.
    mlflowGetRun: { kind: 'root', op: 'runs.get', family: 'experiment', ids: { resource: 'run', fields: ['runId', 'runUuid'] } },
    mlflowListArtifacts: { kind: 'root', op: 'artifacts.list', family: 'experiment', ids: { resource: 'run', fields: ['runId', 'runUuid'] } },
    mlflowGetMetricHistoryBulkInterval: { kind: 'root', op: 'metrics.getHistoryBulkInterval', family: 'experiment', ids: { resource: 'run', fields: ['runIds'] } },
    mlflowSearchRuns: SEARCH_RUNS,
    // The filter may name any model: the search needs read on registered models tenant-wide.
    mlflowSearchModelVersions: { kind: 'root', op: 'modelVersions.search', family: 'model' },
    test: { kind: 'data', why: 'echoes its argument' },
  },
  // MLflow's "mutations" are searches (autogenerated from read-only RPCs); nothing in the schema writes.
  Mutation: {
    mlflowSearchDatasets: { kind: 'root', op: 'datasets.search', family: 'experiment', ids: { resource: 'experiment', fields: ['experimentIds'] } },
    mlflowSearchRuns: SEARCH_RUNS,
    testMutation: { kind: 'data', why: 'echoes its argument' },
  },
  MlflowRunExtension: {
    ...data('info', 'data', 'outputs'),
    // Datasets logged to a run are stored in the run's experiment (log_inputs); model inputs are ids the run logged.
    inputs: { kind: 'data', why: 'dataset inputs live in the run\'s experiment' },
    // resolve_experiment fetches `self.info.experiment_id`: the experiment the run was checked in.
    experiment: { kind: 'data', why: 'the run\'s own experiment' },
    // resolve_model_versions searches versions of any registered model whose source is this run.
    modelVersions: { kind: 'reach', op: 'modelVersions.search', family: 'model', why: 'registered model versions created from the run' },
  },
  MlflowModelVersion: {
    ...data('name', 'version', 'creationTimestamp', 'lastUpdatedTimestamp', 'userId', 'currentStage', 'description', 'source', 'status', 'statusMessage', 'tags', 'aliases'),
    // MLflow's own auth withholds these "sibling" fields when the caller may not read the run / logged model.
    runId: { kind: 'reach', op: 'runs.get', family: 'experiment', why: 'the version\'s source run' },
    runLink: { kind: 'reach', op: 'runs.get', family: 'experiment', why: 'the version\'s source run' },
    deploymentJobState: { kind: 'reach', op: 'runs.get', family: 'experiment', why: 'the deployment job\'s run' },
    modelId: { kind: 'reach', op: 'loggedModels.get', family: 'experiment', why: 'the version\'s logged model' },
    modelParams: { kind: 'reach', op: 'loggedModels.get', family: 'experiment', why: 'the logged model\'s params' },
    modelMetrics: { kind: 'reach', op: 'loggedModels.get', family: 'experiment', why: 'the logged model\'s metrics' },
  },
  MlflowGetExperimentResponse: data('experiment', 'apiError'),
  MlflowExperiment: data('experimentId', 'name', 'artifactLocation', 'lifecycleStage', 'lastUpdateTime', 'creationTime', 'tags', 'effectiveTraceArchivalRetention', 'workspace'),
  MlflowExperimentTag: data('key', 'value'),
  ApiError: data('code', 'message', 'helpUrl', 'traceId', 'errorDetails'),
  ErrorDetail: data('field', 'message'),
  MlflowGetMetricHistoryBulkIntervalResponse: data('metrics', 'apiError'),
  MlflowMetricWithRunId: data('key', 'value', 'timestamp', 'step', 'runId'),
  MlflowGetRunResponse: data('run', 'apiError'),
  MlflowRunInfo: data('runId', 'runUuid', 'runName', 'experimentId', 'userId', 'status', 'startTime', 'endTime', 'artifactUri', 'lifecycleStage'),
  MlflowRunData: data('metrics', 'params', 'tags'),
  MlflowMetricExtension: data('key', 'value', 'timestamp', 'step', 'datasetName', 'datasetDigest', 'modelId', 'runId'),
  MlflowParam: data('key', 'value'),
  MlflowRunTag: data('key', 'value'),
  MlflowRunInputs: data('datasetInputs', 'modelInputs'),
  MlflowDatasetInput: data('tags', 'dataset'),
  MlflowInputTag: data('key', 'value'),
  MlflowDataset: data('name', 'digest', 'sourceType', 'source', 'schema', 'profile'),
  MlflowModelInput: data('modelId'),
  MlflowRunOutputs: data('modelOutputs'),
  MlflowModelOutput: data('modelId', 'step'),
  MlflowModelVersionTag: data('key', 'value'),
  MlflowModelParam: data('name', 'value'),
  MlflowModelMetric: data('key', 'value', 'timestamp', 'step', 'datasetName', 'datasetDigest', 'modelId', 'runId'),
  MlflowModelVersionDeploymentJobState: data('jobId', 'runId', 'jobState', 'runState', 'currentTaskName'),
  MlflowListArtifactsResponse: data('rootUri', 'files', 'nextPageToken', 'apiError'),
  MlflowFileInfo: data('path', 'isDir', 'fileSize'),
  // Versions found by a search the caller was allowed (model family tenant-wide).
  MlflowSearchModelVersionsResponse: data('modelVersions', 'nextPageToken', 'apiError'),
  Test: data('output'),
  TestMutation: data('output'),
  // Runs of the experiments the search was checked for.
  MlflowSearchRunsResponse: data('runs', 'nextPageToken', 'apiError'),
  MlflowSearchDatasetsResponse: data('datasetSummaries', 'apiError'),
  MlflowDatasetSummary: data('experimentId', 'name', 'digest', 'context'),
};

/**
 * The graphql library and MLflow's schema built with it, loaded by the first GraphQL request:
 * loading the library and building the schema is about 60 ms of a 750 ms cold start here
 * (docs/performance.md), and most gateways seldom see GraphQL. graphql 16 has no `exports` map and
 * its `main` is CommonJS, so `import 'graphql'` elsewhere (tests) yields this same module instance.
 */
let loaded: { readonly lib: typeof import('graphql'); readonly schema: GraphQLSchema } | undefined;
function graphql(): NonNullable<typeof loaded> {
  if (!loaded) {
    const lib = createRequire(import.meta.url)('graphql') as typeof import('graphql');
    loaded = { lib, schema: lib.buildSchema(MLFLOW_GRAPHQL_SDL) };
  }
  return loaded;
}

/** MLflow's GraphQL schema (graphql-schema.ts), built on first use. */
export const mlflowGraphqlSchema = (): GraphQLSchema => graphql().schema;

const bad = (detail: string) => new GatehouseError('GATEHOUSE_REQUEST_BAD_GRAPHQL', detail);
const messages = (errors: readonly GraphQLError[]) => errors.slice(0, 3).map((e) => e.message).join('; ');

/**
 * Parses, validates and classifies a `/graphql` JSON body. Throws GATEHOUSE_REQUEST_BAD_GRAPHQL
 * (400) for anything malformed or over the limits, GATEHOUSE_AUTHZ_GRAPHQL_UNSUPPORTED (403)
 * for a field the table does not classify.
 */
export function inspectGraphql(body: unknown, limits: GraphqlLimits, rules: typeof FIELD_RULES = FIELD_RULES): GraphqlInspection {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body is not a JSON object (batched requests are not accepted by MLflow)');
  const { query, variables, operationName } = body as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') throw bad('no query string');
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) throw bad('variables is not an object');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') throw bad('operationName is not a string');

  const { lib, schema } = graphql();
  const { Kind } = lib;
  // Bounded before anything walks it: no more tokens than the field limit could need, and no
  // deeper nesting than the parser, the validator and the walker below may recurse through.
  const maxTokens = Math.max(10_000, limits.maxFields * 50);
  const maxNesting = nestingLimit(limits);
  let document: DocumentNode;
  try {
    checkNesting(lib, query, maxTokens, maxNesting);
    document = lib.parse(query, { noLocation: true, maxTokens });
  } catch (err) {
    if (err instanceof GatehouseError) throw err;
    throw bad(`parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  let fragmentCount = 0;
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION) throw bad(`definition ${d.kind} in a request`);
    // The validator follows spreads from fragment to fragment (NoFragmentCycles): a chain is at most this long.
    if (d.kind === Kind.FRAGMENT_DEFINITION && ++fragmentCount > limits.maxFields) throw bad(`more than ${limits.maxFields} fragments`);
  }
  const errors = lib.validate(schema, document, undefined, { maxErrors: 10 });
  if (errors.length > 0) throw bad(`validation: ${messages(errors)}`);
  // MLflow executes the operation operationName names (or the only one); without one it executes nothing.
  if (!lib.getOperationAST(document, operationName ?? undefined)) throw bad(`operationName ${JSON.stringify(operationName ?? null)} selects no operation`);

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const walker = new Walker(lib, schema, limits, fragments, rules);
  const operations: string[] = [];
  // Every operation is checked, not only the one MLflow will execute.
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    operations.push(`${d.operation} ${d.name?.value ?? '(anonymous)'}`);
    walker.operation(d, (variables ?? {}) as Record<string, unknown>);
  }
  return { operations, uses: walker.uses, introspection: walker.introspection, fields: walker.fields };
}

/** How deep brackets, and selections through fragments, may nest: four times the field depth. */
const nestingLimit = (limits: GraphqlLimits) => limits.maxDepth * 4;

/**
 * Refuses a document whose `{`, `(` and `[` nest deeper than `max`, reading it with the library's
 * own lexer (iterative: strings, block strings and comments are tokens, not brackets), so the
 * recursive-descent parser never meets nesting proportional to the input.
 */
function checkNesting(lib: typeof import('graphql'), query: string, maxTokens: number, max: number): void {
  const { TokenKind } = lib;
  const lexer = new lib.Lexer(new lib.Source(query));
  let depth = 0;
  for (let tokens = 0, t = lexer.advance(); t.kind !== TokenKind.EOF; t = lexer.advance()) {
    if (++tokens > maxTokens) throw bad(`more than ${maxTokens} tokens`);
    if (t.kind === TokenKind.BRACE_L || t.kind === TokenKind.PAREN_L || t.kind === TokenKind.BRACKET_L) {
      if (++depth > max) throw bad(`nested deeper than ${max} levels`);
    } else if (t.kind === TokenKind.BRACE_R || t.kind === TokenKind.PAREN_R || t.kind === TokenKind.BRACKET_R) depth--;
  }
}

class Walker {
  readonly uses: GraphqlUse[] = [];
  introspection = false;
  fields = 0;
  private variables: Record<string, unknown> = {};
  private readonly limits: GraphqlLimits;
  private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  private readonly rules: typeof FIELD_RULES;
  private readonly lib: typeof import('graphql');
  private readonly schema: GraphQLSchema;

  constructor(lib: typeof import('graphql'), schema: GraphQLSchema, limits: GraphqlLimits, fragments: ReadonlyMap<string, FragmentDefinitionNode>, rules: typeof FIELD_RULES) {
    this.lib = lib;
    this.schema = schema;
    this.limits = limits;
    this.fragments = fragments;
    this.rules = rules;
  }

  operation(op: OperationDefinitionNode, inputs: Record<string, unknown>): void {
    const coerced = this.lib.getVariableValues(this.schema, op.variableDefinitions ?? [], inputs, { maxErrors: 5 });
    if (coerced.errors) throw bad(`variables: ${messages(coerced.errors)}`);
    this.variables = coerced.coerced;
    const root = op.operation === 'query' ? this.schema.getQueryType() : op.operation === 'mutation' ? this.schema.getMutationType() : undefined;
    if (!root) throw bad(`${op.operation} is not served`);
    this.selections(op.selectionSet, root, 1, op.name?.value ?? '(anonymous)', new Set(), 1);
  }

  /**
   * Walks a selection set of `parent`. Fragments (named and inline) merge into the same level,
   * as in execution; `@skip`/`@include` are ignored (a skipped field is still checked).
   */
  private selections(set: SelectionSetNode, parent: GraphQLObjectType, depth: number, path: string, spreading: ReadonlySet<string>, nesting: number): void {
    // Every level of this recursion (fields, inline fragments, spreads) counts: fragments add no field depth.
    const max = nestingLimit(this.limits);
    if (nesting > max) throw bad(`selections nested deeper than ${max} levels (fragments expanded)`);
    for (const sel of set.selections) {
      if (sel.kind === this.lib.Kind.INLINE_FRAGMENT) {
        this.selections(sel.selectionSet, this.objectType(sel.typeCondition?.name.value ?? parent.name), depth, path, spreading, nesting + 1);
        continue;
      }
      if (sel.kind === this.lib.Kind.FRAGMENT_SPREAD) {
        const name = sel.name.value;
        const fragment = this.fragments.get(name);
        if (!fragment || spreading.has(name)) throw bad(`fragment ${name} is unknown or cyclic`);
        this.selections(fragment.selectionSet, this.objectType(fragment.typeCondition.name.value), depth, path, new Set([...spreading, name]), nesting + 1);
        continue;
      }
      this.fields++;
      if (this.fields > this.limits.maxFields) throw bad(`more than ${this.limits.maxFields} fields`);
      if (depth > this.limits.maxDepth) throw bad(`deeper than ${this.limits.maxDepth} levels`);
      const name = sel.name.value;
      const here = `${path}.${sel.alias ? `${sel.alias.value}:` : ''}${name}`;
      if (name === '__typename') continue;
      let def: GraphQLField<unknown, unknown> | undefined;
      if (name === '__schema' || name === '__type') {
        this.introspection = true;
        def = name === '__schema' ? this.lib.SchemaMetaFieldDef : this.lib.TypeMetaFieldDef;
      } else {
        def = parent.getFields()[name];
        if (!def) throw bad(`unknown field ${parent.name}.${name}`);
        // Introspection types (__Type, __Field, ...) describe the schema and name no resource.
        if (!parent.name.startsWith('__')) this.classify(parent.name, name, def, sel, here);
      }
      if (sel.selectionSet) this.selections(sel.selectionSet, this.objectType(this.lib.getNamedType(def.type).name), depth + 1, here, spreading, nesting + 1);
    }
  }

  private classify(type: string, name: string, def: GraphQLField<unknown, unknown>, node: FieldNode, path: string): void {
    const rule = Object.hasOwn(this.rules, type) && Object.hasOwn(this.rules[type]!, name) ? this.rules[type]![name]! : undefined;
    if (!rule) throw new GatehouseError('GATEHOUSE_AUTHZ_GRAPHQL_UNSUPPORTED', `${type}.${name} at ${path}`);
    if (rule.kind === 'data') return;
    if (rule.kind === 'reach') {
      this.uses.push({ path, op: rule.op, family: rule.family });
      return;
    }
    if (!rule.ids) {
      this.uses.push({ path, op: rule.op, family: rule.family });
      return;
    }
    let args: Record<string, unknown>;
    try {
      args = this.lib.getArgumentValues(def, node, this.variables);
    } catch (err) {
      throw bad(`arguments of ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const input = args.input;
    const ids = new Set<string>();
    if (typeof input === 'object' && input !== null) {
      for (const field of rule.ids.fields) {
        const v = (input as Record<string, unknown>)[field];
        for (const id of Array.isArray(v) ? v : [v]) if (typeof id === 'string' && id !== '') ids.add(id);
      }
    }
    // No id: MLflow answers with an error or nothing; the use still needs the family tenant-wide.
    this.uses.push(ids.size > 0 ? { path, op: rule.op, family: rule.family, resource: { kind: rule.ids.resource, ids: [...ids] } } : { path, op: rule.op, family: rule.family });
  }

  private objectType(name: string): GraphQLObjectType {
    const type = this.schema.getType(name);
    if (!this.lib.isObjectType(type)) throw bad(`${name} is not an object type`);
    return type;
  }
}

const REFS: Record<'experiment' | 'run', ResourceRef> = {
  experiment: { kind: 'experiment', ids: [{ in: 'body', field: 'experiment_id' }] },
  run: { kind: 'run', ids: [{ in: 'body', field: 'run_id' }] },
};

/** The resource ids a GraphQL request names, for audit (`from` says where in the document). */
export function graphqlResourceIds(inspection: GraphqlInspection): ResourceId[] {
  return inspection.uses.flatMap((use) =>
    (use.resource?.ids ?? []).map((id) => ({ kind: use.resource!.kind, ref: -1, id, key: { [REFS[use.resource!.kind].ids[0]!.field]: id }, from: `graphql:${use.path}` })),
  );
}

/**
 * The access requests a GraphQL request makes: one per REST twin operation, with one check per
 * distinct resource set. Every id named is resolved in the caller's tenant through the same
 * resolver as REST ids (a run of another tenant does not resolve: GATEHOUSE_RESOURCE_NOT_FOUND).
 * A request that names no resource (introspection, `__typename`, the echo fields) needs only
 * an authenticated caller.
 */
export async function graphqlReads(inspection: GraphqlInspection, resolver: Resolver, tenant: string | undefined): Promise<TwinRead[]> {
  const distinct = new Map<string, GraphqlUse>();
  for (const use of inspection.uses) {
    const key = [use.op, use.family, use.resource?.kind ?? '*', ...[...(use.resource?.ids ?? [])].sort()].join('\0');
    if (!distinct.has(key)) distinct.set(key, use);
  }
  return Promise.all(
    [...distinct.values()].map(async (use): Promise<TwinRead> => {
      // Without a tenant the engine denies anyway; nothing is looked up (no oracle in another workspace).
      const anchors = use.resource && tenant !== undefined
        ? await resolver.anchors(REFS[use.resource.kind], use.resource.ids.map((id) => ({ kind: use.resource!.kind, ref: -1, id, key: { id }, from: `graphql:${use.path}` })), tenant)
        : undefined;
      return { op: use.op, family: use.family, anchors };
    }),
  );
}
