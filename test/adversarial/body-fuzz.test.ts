/**
 * JSON bodies fuzzed for every JSON route of the table (every route family), through the
 * in-process gateway in front of a recording stub upstream, in workspace mode and in tag mode.
 * The caller is alice, a contributor of team-a denied one experiment and one registered model of
 * team-a by explicit deny bindings; the base request names her own resources everywhere, and the
 * fuzz replaces the identifier fields MLflow's handler reads from the body with the denied ids,
 * team-b's ids, other spellings, odd types, huge arrays (200,000 elements), deep nesting (up to
 * 100,000 levels) and huge strings, and adds huge or deep extra members.
 *
 * Asserted for every request:
 * - the gateway never answers 5xx (a malformed request is the client's 4xx, never a crash);
 * - a request the gateway refused (its own error code) reached MLflow not at all;
 * - a request the gateway forwarded names, in no identifier field read the way MLflow reads it
 *   (both field spellings, lists fanned out, experiment ids with Python's int()), a resource alice
 *   may not touch: a denied one; in tag mode any of team-b's; in workspace mode team-b's
 *   experiments and what lives in them (registered model names are MLflow's to scope there: the
 *   request of a tenant-scoped route is pinned to X-MLFLOW-WORKSPACE team-a, which is asserted too).
 * Seeded: the same cases every run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import fc from 'fast-check';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type Recorded, type StubUpstream } from '../harness/stub-upstream.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { concretePaths } from '../../src/routes/mlflow/expand.ts';
import type { IdSource } from '../../src/routes/mlflow/types.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';
import { pyInt } from './world.ts';
import { everyMessage, idFieldValue, type ResourceIds } from '../harness/tenant-resources.ts';
import type { ResourceKind } from '../../src/model/resource.ts';

const PASSWORD = 'fuzz-password-123';
const TAG = 'gatehouse.tenant';
const SEED = 20261207;
/** Random bodies per route and mode, besides the fixed extreme cases every route gets. */
const RUNS_PER_ROUTE = 6;

type Ids = ResourceIds;
const TEAM_A: Ids = { experiment: '101', experimentName: 'exp-a', run: '0a'.repeat(16), loggedModel: `m-${'0a'.repeat(16)}`, trace: `tr-${'0a'.repeat(16)}`, model: 'model-a' };
const TEAM_B: Ids = { experiment: '202', experimentName: 'exp-b', run: '0b'.repeat(16), loggedModel: `m-${'0b'.repeat(16)}`, trace: `tr-${'0b'.repeat(16)}`, model: 'model-b' };
/** team-a's resources alice is denied by explicit bindings: refused in both modes, whatever else is allowed. */
const DENIED: Ids = { experiment: '303', experimentName: 'exp-c', run: '0c'.repeat(16), loggedModel: `m-${'0c'.repeat(16)}`, trace: `tr-${'0c'.repeat(16)}`, model: 'model-c' };
const MISSING: Ids = { experiment: '404404', experimentName: 'exp-missing', run: 'dead'.repeat(8), loggedModel: `m-${'dead'.repeat(8)}`, trace: `tr-${'dead'.repeat(8)}`, model: 'model-missing' };
type Tenant = 'team-a' | 'team-b';
const OWNERS: readonly [Tenant, Ids][] = [['team-a', TEAM_A], ['team-a', DENIED], ['team-b', TEAM_B]];

/** Kinds the gateway traces to an experiment or a registered model: where team-b's ids are refused. */
const TRACEABLE = new Set<ResourceKind>(['experiment', 'run', 'logged_model', 'trace', 'assessment', 'artifact', 'scorer', 'registered_model', 'model_version', 'prompt']);

/** One answer holding every message the gateway's lookups read, for one tenant's resources. */
const everything = (t: Tenant, ids: Ids): string => everyMessage(ids, [{ key: TAG, value: t }]);

/** Whose resource a lookup URL names, read exactly (experiment ids as Python's int() reads them). */
function ownerOf(url: URL): [Tenant, Ids] | undefined {
  const values = [...url.searchParams.values(), ...url.pathname.split('/').map((s) => decodeURIComponent(s))];
  return OWNERS.find(([, ids]) => values.some((v) => v === ids.run || v === ids.loggedModel || v === ids.trace || v === ids.model || v === ids.experimentName || pyInt(v) === Number(ids.experiment)));
}

const forwarded = (r: Recorded) => r.headers['x-forwarded-for'] !== undefined;

interface World {
  readonly stub: StubUpstream;
  readonly gh: InProcess;
}

async function startFuzzWorld(mode: 'workspace' | 'tag'): Promise<World> {
  const stub = await startStub(
    (req, res, r) => {
      const url = new URL(req.url!, 'http://x');
      const answer = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (url.pathname === '/api/3.0/mlflow/server-info') return answer(200, JSON.stringify({ store_type: 'SqlStore', workspaces_enabled: mode === 'workspace' }));
      if (url.pathname === '/api/3.0/mlflow/workspaces') return answer(200, JSON.stringify({ workspaces: [{ name: 'default' }, { name: 'team-a' }, { name: 'team-b' }] }));
      // Forwarded calls: an answer that is every message, of team-a (alice's own), so filters have items to read.
      if (forwarded(r)) return answer(200, everything('team-a', TEAM_A));
      // The gateway's lookups: the owner's resource, within its workspace (workspace mode) or tagged (tag mode).
      const owner = ownerOf(url);
      const visible = owner !== undefined && (mode === 'tag' || req.headers['x-mlflow-workspace'] === owner[0]);
      return visible ? answer(200, everything(...owner)) : answer(404, JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'not found' }));
    },
    { keepBodyBytes: 64 * 1024 * 1024 },
  );
  const gh = await startInProcess(stub.url, {
    ...(mode === 'tag' && { tenancy: { mode: 'tag' } }),
    tenants: [
      { name: 'team-a', members: { users: ['alice'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'viewer', effect: 'deny', user: 'alice', tenant: 'team-a', experiment: { id: DENIED.experiment } },
      { role: 'viewer', effect: 'deny', user: 'alice', tenant: 'team-a', model: { namePattern: DENIED.model } },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
    ],
    'rateLimits.enabled': false,
  });
  await createUsers(gh, ['alice', 'bob'], PASSWORD);
  return { stub, gh };
}

const valueFor = idFieldValue;

/** A body field the fuzz controls: where MLflow's handler reads an identifier from the JSON body. */
interface BodyField {
  readonly kind: ResourceKind;
  readonly source: IdSource;
  readonly index: number;
}

/** A request template: path, query and headers naming team-a, and the body's identifier fields. */
interface Template {
  readonly row: RouteRow;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly fields: readonly BodyField[];
}

function template(row: RouteRow, pathTemplate: string): Template {
  const query: [string, string][] = [];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const pathValues: Record<string, string> = {};
  const fields: BodyField[] = [];
  for (const ref of row.resources ?? []) {
    ref.ids.forEach((source, index) => {
      const value = valueFor(ref.kind, source, index, TEAM_A);
      if (source.in === 'path' || source.in === 'artifact-path') pathValues[source.field] = value;
      else if (source.in === 'header') headers[source.field] = value;
      else if (source.in === 'query') query.push([source.field, value]);
      else fields.push({ kind: ref.kind, source, index });
    });
  }
  const path = pathTemplate.replace(/\{([A-Za-z_]+)(:path)?\}/g, (_, name: string, isPath?: string) => pathValues[name] ?? (isPath ? 'a/b' : `${name}-1`));
  return { row, path: query.length ? `${path}?${new URLSearchParams(query).toString()}` : path, headers, fields };
}

/** JSON text of a value, kept as text: a 100,000-level nesting is never a JS value the test must stringify. */
type Raw = string;
const str = (s: string): Raw => JSON.stringify(s);

const memo = new Map<string, Raw>();
const once = (key: string, make: () => Raw): Raw => memo.get(key) ?? (memo.set(key, make()), memo.get(key)!);
const hugeArray = (own: string, last: string): Raw => once(`arr:${own}:${last}`, () => `[${`${str(own)},`.repeat(200_000)}${str(last)}]`);
const deepArray = (levels: number, inner: string): Raw => once(`deep:${levels}:${inner}`, () => `${'['.repeat(levels)}${str(inner)}${']'.repeat(levels)}`);
const deepObject = (levels: number, inner: string): Raw => once(`deepo:${levels}:${inner}`, () => `${'{"a":'.repeat(levels)}${str(inner)}${'}'.repeat(levels)}`);
const hugeString = (own: string): Raw => once(`str:${own}`, () => str(`${own}${' '.repeat(3_000_000)}`));

/** The extreme values every identifier field of every route gets at least once. */
function extremes(own: string, foreign: string): Raw[] {
  return [hugeArray(own, foreign), deepArray(100, foreign), deepArray(100_000, foreign), deepObject(100_000, foreign), hugeString(own)];
}

/** Other spellings of an identifier: the ones two parsers could read differently. */
function spellings(id: string): string[] {
  const out = [` ${id}`, `${id} `, `\t${id}`, `${id}\n`, `+${id}`, `0${id}`, id.toUpperCase(), `${id}\u0000`, `${id.slice(0, 1)}_${id.slice(1)}`];
  if (/^[0-9]+$/.test(id)) out.push(id.replace(/[0-9]/g, (d) => String.fromCodePoint(0xff10 + Number(d))), `${id}.0`);
  return out;
}

function idValue(kind: ResourceKind, f: BodyField): fc.Arbitrary<Raw> {
  const own = valueFor(kind, f.source, f.index, TEAM_A);
  const foreign = valueFor(kind, f.source, f.index, TEAM_B);
  const missing = valueFor(kind, f.source, f.index, MISSING);
  const denied = valueFor(kind, f.source, f.index, DENIED);
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(str(own), str(foreign), str(denied), str(missing)) },
    { weight: 3, arbitrary: fc.constantFrom(...spellings(foreign).map(str), ...spellings(denied).map(str)) },
    { weight: 2, arbitrary: fc.constantFrom('202', '101', '202.0', '-1', '1e300', 'true', 'false', 'null', '{}', '[]', `{"id":${str(foreign)}}`, `[[${str(foreign)}]]`) },
    { weight: 3, arbitrary: fc.array(fc.constantFrom(own, foreign, denied, missing), { minLength: 1, maxLength: 4 }).map((a) => JSON.stringify(a)) },
    { weight: 1, arbitrary: fc.constantFrom(...extremes(own, foreign)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(str) },
  );
}

/** Members added beside the identifier fields: huge and deep tag lists (tag-mode tag checks walk them), junk. */
const tagItem = (k: string) => `{"key":${str(k)},"value":"v"}`;
const EXTRAS: Raw[] = [
  `"tags":[${`${tagItem('k')},`.repeat(200_000)}${tagItem(TAG)}]`,
  `"tags":{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":"v"`).join(',')}}`,
  `"trace":{"trace_info":{"tags":[${`${tagItem('k')},`.repeat(200_000)}${tagItem('k')}]}}`,
  `"nested":${deepObject(100_000, 'x')}`,
  `"list":${deepArray(100, 'x')}`,
  `"blob":${hugeString('x')}`,
  `"tags":[${tagItem(TAG)}]`,
  `"tags":[${tagItem(`  ${TAG.toUpperCase()}`)}]`,
];
const extra = fc.oneof({ weight: 4, arbitrary: fc.constant<Raw | undefined>(undefined) }, { weight: 1, arbitrary: fc.constantFrom<Raw | undefined>(...EXTRAS) }, { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map<Raw | undefined>((v) => `"junk":${JSON.stringify(v)}`) });

/**
 * The JSON body text: each field at its dotted path (a `many` field crossing a list at its first
 * segment, as MLflow's repeated messages do), holding raw text. Placeholders are swapped for the
 * raw values after JSON.stringify, so no value is ever re-serialised by the test.
 */
function bodyText(fields: readonly BodyField[], values: readonly Raw[], extraMember: Raw | undefined): string {
  const root: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    const placeholder = `@@raw${i}@@`;
    const parts = f.source.field.split('.');
    if (parts.length === 1) {
      if (root[f.source.field] === undefined) root[f.source.field] = placeholder;
      return;
    }
    let cur = (root[parts[0]!] ??= f.source.many ? [{}] : {}) as Record<string, unknown> | Record<string, unknown>[];
    if (Array.isArray(cur)) cur = cur[0]!;
    for (const p of parts.slice(1, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts.at(-1)!] ??= placeholder;
  });
  let text = JSON.stringify(root).replace(/"@@raw(\d+)@@"/g, (_, i: string) => values[Number(i)]!);
  if (extraMember !== undefined) text = text === '{}' ? `{${extraMember}}` : `${text.slice(0, -1)},${extraMember}}`;
  return text;
}

/** Every value MLflow would read from a dotted field: both spellings of each segment, lists fanned out. */
function mlflowReads(json: unknown, dotted: string): string[] {
  let nodes: unknown[] = [json];
  const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  for (const segment of dotted.split('.')) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) continue;
      for (const key of new Set([segment, camel(segment)])) {
        const v = (node as Record<string, unknown>)[key];
        if (Array.isArray(v)) for (const item of v) next.push(item);
        else if (v !== undefined && v !== null) next.push(v);
      }
    }
    nodes = next;
  }
  return nodes.flatMap((v) => (typeof v === 'string' ? [v] : typeof v === 'number' ? [String(v)] : []));
}

const MODEL_KINDS = new Set<ResourceKind>(['registered_model', 'model_version', 'prompt']);

/**
 * Whether a value MLflow reads names one of `ids`' resources: experiment ids through Python's
 * int(), everything else exactly, as MLflow's SQLite and PostgreSQL stores compare it.
 */
function names(ids: Ids, kind: ResourceKind, field: string, v: string): boolean {
  if (kind === 'experiment' || (kind === 'scorer' && field.endsWith('experiment_id'))) return field.includes('name') ? v === ids.experimentName : pyInt(v) === Number(ids.experiment);
  if (kind === 'artifact') return pyInt(v.split('/')[0] ?? '') === Number(ids.experiment);
  return [ids.run, ids.loggedModel, ids.trace, ids.model].includes(v);
}

/** What alice may not name in a forwarded request, by mode (see the header). */
function forbidden(mode: 'workspace' | 'tag', kind: ResourceKind, field: string, v: string): boolean {
  if (names(DENIED, kind, field, v)) return true;
  return (mode === 'tag' || !MODEL_KINDS.has(kind)) && names(TEAM_B, kind, field, v);
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

function send(gh: InProcess, method: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const u = new URL(gh.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: { ...headers, authorization: basic('alice', PASSWORD), 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
    });
    // The gateway may refuse (413) and close before a huge body is sent whole: its answer is still read.
    req.on('error', reject);
    req.end(body);
  });
}

/** One request and the three properties; returns the problems found. */
async function check(world: World, mode: 'workspace' | 'tag', t: Template, body: string): Promise<string[]> {
  world.stub.requests.length = 0;
  const a = await send(world.gh, t.row.method, t.path, t.headers, body);
  const where = `${t.row.method} ${t.path} (${t.row.op}) body ${body.length > 300 ? `${body.slice(0, 200)}… (${body.length} chars)` : body}`;
  const problems: string[] = [];
  if (a.status >= 500) problems.push(`${where}: gateway answered ${a.status} ${a.text.slice(0, 200)}`);
  let code: string | undefined;
  try {
    code = (JSON.parse(a.text) as { gatehouse_code?: string }).gatehouse_code;
  } catch {
    /* MLflow's (the stub's) answer */
  }
  const sent = world.stub.requests.filter(forwarded);
  if (code !== undefined && sent.length > 0) problems.push(`${where}: refused with ${code} but forwarded ${sent.map((s) => s.url).join(', ')}`);
  const sha = createHash('sha256').update(body).digest('hex');
  for (const s of sent) {
    const tenanted = t.row.tenancy === 'scoped' || t.row.tenancy === 'search';
    if (mode === 'workspace' && tenanted && s.headers['x-mlflow-workspace'] !== 'team-a') problems.push(`${where}: forwarded with X-MLFLOW-WORKSPACE ${String(s.headers['x-mlflow-workspace'])}`);
    const json = JSON.parse(s.sha256 === sha ? body : s.body) as unknown;
    for (const ref of t.row.resources ?? []) {
      if (!TRACEABLE.has(ref.kind)) continue;
      for (const source of ref.ids) {
        if (source.in !== 'params' && source.in !== 'body') continue;
        for (const field of source.alias ? [source.field, source.alias] : [source.field]) {
          const bad = mlflowReads(json, field).filter((v) => forbidden(mode, ref.kind, field, v));
          if (bad.length > 0) problems.push(`${where}: forwarded naming a forbidden ${ref.kind} in ${field}: ${bad.slice(0, 3).join(', ')}`);
        }
      }
    }
  }
  return problems;
}

const JSON_ROUTES = MLFLOW_ROUTES.filter((row) => row.body === 'json').map((row) => template(row, concretePaths(row)[0]!));

for (const mode of ['workspace', 'tag'] as const) {
  describe(`JSON body fuzz, ${mode} mode`, () => {
    let world: World;
    before(async () => {
      world = await startFuzzWorld(mode);
    });
    after(async () => {
      await world?.gh.close();
      await world?.stub.close();
    });

    test(`every JSON route (${JSON_ROUTES.length}, ${new Set(JSON_ROUTES.map((t) => t.row.op.split('.')[0])).size} families): no 5xx, nothing refused reaches MLflow, nothing forwarded names a forbidden resource`, async (t) => {
      assert.ok(JSON_ROUTES.length >= 150 && new Set(JSON_ROUTES.map((t) => t.row.op.split('.')[0])).size >= 30);
      const problems: string[] = [];
      let requests = 0;
      let forwardedCount = 0;
      for (const [i, route] of JSON_ROUTES.entries()) {
        const ownValues = route.fields.map((f) => str(valueFor(f.kind, f.source, f.index, TEAM_A)));
        // Fixed cases, rotating over the routes so every extreme and extra meets dozens of routes
        // in every mode: one extreme in each identifier field, one extra member.
        const fixed: string[] = [];
        route.fields.forEach((f, k) => {
          const x = extremes(valueFor(f.kind, f.source, f.index, TEAM_A), valueFor(f.kind, f.source, f.index, TEAM_B))[(i + k) % 5]!;
          fixed.push(bodyText(route.fields, ownValues.map((v, j) => (j === k ? x : v)), undefined));
        });
        fixed.push(bodyText(route.fields, ownValues, EXTRAS[i % EXTRAS.length]));
        for (const body of fixed) {
          requests++;
          problems.push(...(await check(world, mode, route, body)));
        }
        // Random cases: every field fuzzed at once, maybe with an extra member.
        const arb = fc.tuple(fc.tuple(...route.fields.map((f) => idValue(f.kind, f))), extra);
        await fc.assert(
          fc.asyncProperty(arb, async ([values, x]) => {
            requests++;
            const body = bodyText(route.fields, values as Raw[], x);
            const found = await check(world, mode, route, body);
            if (world.stub.requests.some(forwarded)) forwardedCount++;
            problems.push(...found);
          }),
          { numRuns: RUNS_PER_ROUTE, seed: SEED + i },
        );
        if (problems.length > 20) break;
      }
      assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems in ${requests} requests`);
      // Not a fuzz of refusals only: some bodies were good enough to be forwarded.
      assert.ok(forwardedCount > 50, `only ${forwardedCount} of ${requests} requests were forwarded`);
      t.diagnostic(`${requests} requests, ${forwardedCount} forwarded`);
    });
  });
}
