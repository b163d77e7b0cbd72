/**
 * The route sweep in tag mode (tenancy.mode: tag): every concrete route of the table, under both
 * prefixes, as an anonymous caller and as a member of team-b naming team-a's resources (an
 * experiment, run, logged model, trace, registered model, version, prompt, artifact path) in
 * exactly the places MLflow's handlers read them.
 *
 * The upstream is a recording stub standing in for one MLflow without workspaces: it answers the
 * gateway's own lookups (GETs without X-Forwarded-For) with team-a's resources, carrying team-a's
 * tenant tag, and 404 for the ids of the "does not exist" twin. test/e2e/authorization-tag.test.ts
 * proves the same rules against a real MLflow. Asserted here, for every route:
 * - anonymous: only public routes are forwarded, everything else is 401 with no upstream call;
 * - team-b naming team-a: nothing but the gateway's GET lookups reaches the upstream, unless the
 *   route is public / authenticated-global, a create in bob's own tenant (stamped team-b), or one of
 *   the constrained searches (forwarded with team-b's clause; team-a's items filtered out); a call
 *   on a team-a resource is 404, byte-identical to the same call naming ids that do not exist.
 * - the owner (team-a) reading the same resources is forwarded: the fixture resolves, so the
 *   refusals above are the tenant check and not a broken stub.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startInProcess, type InProcess, createUsers } from '../harness/gatehouse.ts';
import { startStub, type Recorded, type StubUpstream } from '../harness/stub-upstream.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { concretePaths } from '../../src/routes/mlflow/expand.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';
import { everyMessage, requestNaming as build, sendBuilt, isForwarded, type Built, type ResourceIds, type Sent } from '../harness/tenant-resources.ts';
import type { ResourceKind } from '../../src/model/resource.ts';

const PASSWORD = 'sweep-password-123';
const TAG = 'gatehouse.tenant';

/** team-a's resources, and ids that do not exist (the stub answers 404 for anything with "dead"/"404404"/"missing"). */
type Ids = ResourceIds;
const TEAM_A: Ids = { experiment: '101', experimentName: 'exp-a', run: 'a1'.repeat(16), loggedModel: `m-${'a1'.repeat(16)}`, trace: `tr-${'a1'.repeat(16)}`, model: 'model-a' };
const MISSING: Ids = { experiment: '404404', experimentName: 'exp-missing', run: 'dead'.repeat(8), loggedModel: `m-${'dead'.repeat(8)}`, trace: `tr-${'dead'.repeat(8)}`, model: 'model-missing' };
const isMissing = (url: string) => /dead|404404|missing/.test(url);

/** One answer that is every MLflow message the gateway may read: each lookup finds its fields, every list holds team-a's item. */
const TEAM_A_BODY = everyMessage(TEAM_A, [{ key: TAG, value: 'team-a' }]);
const NOT_FOUND_BODY = JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'not found' });

let stub: StubUpstream;
let gh: InProcess;

before(async () => {
  stub = await startStub((req, res) => {
    const url = req.url ?? '';
    if (url === '/api/3.0/mlflow/server-info') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"store_type":"SqlStore","workspaces_enabled":false}');
    }
    const missing = isMissing(url);
    const body = missing ? NOT_FOUND_BODY : TEAM_A_BODY;
    res.writeHead(missing ? 404 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  gh = await startInProcess(stub.url, {
    tenancy: { mode: 'tag' },
    tenants: [
      { name: 'team-a', members: { users: ['alice'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
    ],
    'rateLimits.enabled': false,
  });
  await createUsers(gh, ['alice', 'bob'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await stub?.close();
});

const send = (method: string, b: Built, auth: Record<string, string>): Promise<Sent> => sendBuilt(gh.url, stub, method, b, auth);

const forwarded = isForwarded;
/** The gateway's own lookups: GETs it makes without the client's request. */
const lookup = (r: Recorded) => r.method === 'GET' && !forwarded(r);

const cases = MLFLOW_ROUTES.flatMap((row) => concretePaths(row).map((template) => ({ row, template })));

const PUBLIC = (row: RouteRow) => row.action === 'public';
const GLOBAL = (row: RouteRow) => row.action === 'public' || (row.action === 'authenticated' && row.tenancy === 'global');
/** Creates that make a tenant root in the caller's own tenant (the table's `createsRoot`): forwarded with the tag stamped. */
const STAMPED = (row: RouteRow) => row.createsRoot !== undefined;
/** Searches that name no experiment (the table's `search`): forwarded constrained to the caller's tenant, results filtered. */
const CONSTRAINED = (row: RouteRow) => row.search !== undefined;
/** Kinds that trace back to an experiment or a registered model: a team-a one is "does not exist" for team-b. */
const TRACEABLE = new Set<ResourceKind>(['experiment', 'run', 'logged_model', 'trace', 'assessment', 'artifact', 'scorer', 'registered_model', 'model_version', 'prompt']);
const LEVEL_ACTIONS = new Set(['read', 'use', 'edit', 'manage']);
/** Rows whose subject (first ref) is a traceable team-a resource and that a contributor could otherwise call. */
const namesTeamA = (row: RouteRow) => row.tenancy === 'scoped' && LEVEL_ACTIONS.has(row.action) && row.resources !== undefined && row.resources.length > 0 && TRACEABLE.has(row.resources[0]!.kind);

test(`the tag-mode sweep covers every route of the table (${cases.length} concrete routes)`, () => {
  assert.ok(cases.length >= 550);
  assert.ok(cases.filter(({ row }) => namesTeamA(row)).length >= 150, 'many routes name a team-a resource');
});

test('anonymous: only public routes are forwarded, everything else is 401 and the upstream hears nothing', async () => {
  const problems: string[] = [];
  for (const { row, template } of cases) {
    const b = build(row, template, TEAM_A);
    const r = await send(row.method, b, {});
    const where = `${row.method} ${b.path} (${row.op}, ${row.action})`;
    const reached = r.upstream.some(forwarded);
    if (reached !== PUBLIC(row)) problems.push(`${where}: ${reached ? 'reached MLflow' : 'not forwarded'}, status ${r.status}`);
    if (!PUBLIC(row)) {
      if (r.status !== 401) problems.push(`${where}: status ${r.status}, expected 401`);
      const calls = r.upstream.filter((u) => u.url !== '/api/3.0/mlflow/server-info');
      if (calls.length > 0) problems.push(`${where}: an anonymous call made the gateway call MLflow: ${calls.map((c) => `${c.method} ${c.url}`).join(', ')}`);
    } else if (r.status !== 200) problems.push(`${where}: public route status ${r.status}`);
  }
  assert.deepEqual(problems, [], `anonymous:\n${problems.join('\n')}`);
});

test('team-b naming team-a\'s resources: nothing reaches MLflow but the gateway\'s lookups; "does not exist" exactly as for missing ids', async () => {
  const bob = { authorization: basic('bob', PASSWORD) };
  const problems: string[] = [];
  const counted = { notFound: 0, lookups: 0 };
  for (const { row, template } of cases) {
    const b = build(row, template, TEAM_A);
    const r = await send(row.method, b, bob);
    const where = `${row.method} ${b.path} (${row.op}, ${row.action}/${row.tenancy})`;
    const sent = r.upstream.filter(forwarded);
    const other = r.upstream.filter((u) => !forwarded(u) && !lookup(u));
    counted.lookups += r.upstream.filter(lookup).length;
    if (other.length > 0) problems.push(`${where}: the gateway sent ${other.map((o) => `${o.method} ${o.url}`).join(', ')} upstream on its own`);
    for (const s of sent) if (s.headers['x-mlflow-workspace'] !== undefined) problems.push(`${where}: X-MLFLOW-WORKSPACE sent upstream in tag mode`);

    if (GLOBAL(row)) {
      if (sent.length !== 1 || r.status !== 200) problems.push(`${where}: global route: status ${r.status}, forwarded ${sent.length}`);
      continue;
    }
    if (STAMPED(row)) {
      const stamped = sent.length === 1 && (JSON.parse(sent[0]!.body) as { tags?: { key: string; value: string }[] }).tags?.some((t) => t.key === TAG && t.value === 'team-b');
      if (!stamped || r.status !== 200) problems.push(`${where}: a create in bob's own tenant must be forwarded stamped team-b: status ${r.status}, sent ${sent.map((s) => s.body).join(' | ')}`);
      continue;
    }
    if (CONSTRAINED(row)) {
      if (sent.length === 0 || r.status !== 200) {
        problems.push(`${where}: a search of bob's own tenant: status ${r.status}, forwarded ${sent.length}: ${r.text.slice(0, 200)}`);
        continue;
      }
      if (row.search?.constrainable) {
        for (const s of sent) {
          const filter = s.method === 'GET' ? (new URL(s.url, 'http://x').searchParams.get('filter') ?? '') : String((JSON.parse(s.body) as { filter?: unknown }).filter ?? '');
          if (!filter.includes(TAG) || !filter.includes("'team-b'")) problems.push(`${where}: forwarded without the team-b clause: filter ${JSON.stringify(filter)}`);
        }
      }
      if (r.text.includes(TEAM_A.experimentName) || r.text.includes(TEAM_A.model)) problems.push(`${where}: team-a's item in bob's search results: ${r.text.slice(0, 300)}`);
      continue;
    }
    if (row.op === 'workspaces.list') {
      // Tenants presented as workspaces: the gateway answers with bob's own tenants, MLflow hears nothing.
      if (sent.length > 0 || r.status !== 200 || r.text !== JSON.stringify({ workspaces: [{ name: 'team-b' }] })) {
        problems.push(`${where}: the workspace list must be answered by the gateway with team-b only: status ${r.status}, forwarded ${sent.length}: ${r.text.slice(0, 200)}`);
      }
      continue;
    }
    if (row.disabledAnswer !== undefined) {
      // A disabled feature's list: the same empty answer for everyone, from the gateway (routes/mlflow/disabled-answer.ts).
      if (sent.length > 0 || r.status !== 200 || JSON.stringify(JSON.parse(r.text)) !== JSON.stringify(row.disabledAnswer)) {
        problems.push(`${where}: a disabled list must be answered empty by the gateway: status ${r.status}, forwarded ${sent.length}: ${r.text.slice(0, 200)}`);
      }
      continue;
    }
    // Everything else names team-a's resources (or is fail-closed in tag mode): refused, never forwarded.
    if (sent.length > 0) problems.push(`${where}: reached MLflow (status ${r.status}): ${sent.map((s) => `${s.method} ${s.url}`).join(', ')}`);
    if (r.status < 400) problems.push(`${where}: succeeded with ${r.status}`);
    if (namesTeamA(row)) {
      counted.notFound++;
      if (r.status !== 404) {
        problems.push(`${where}: a team-a resource must look nonexistent (404), got ${r.status}: ${r.text.slice(0, 200)}`);
        continue;
      }
      const twin = await send(row.method, build(row, template, MISSING), bob);
      if (twin.status !== r.status || twin.text !== r.text) problems.push(`${where}: team-a's resource answers ${r.status} ${r.text}, a missing one ${twin.status} ${twin.text}`);
      if (twin.upstream.some(forwarded)) problems.push(`${where}: the missing-id twin reached MLflow`);
    } else if (r.status !== 403 && r.status !== 404) problems.push(`${where}: status ${r.status}, expected 403 or 404: ${r.text.slice(0, 200)}`);
  }
  assert.deepEqual(problems, [], `team-b:\n${problems.join('\n')}`);
  assert.ok(counted.notFound >= 150 && counted.lookups > 0, JSON.stringify(counted));
});

test('the owner reading the same resources is forwarded: the refusals above are the tenant check, not a broken fixture', async () => {
  const alice = { authorization: basic('alice', PASSWORD) };
  const problems: string[] = [];
  let reads = 0;
  for (const { row, template } of cases) {
    if (!namesTeamA(row) || row.action !== 'read' || !(row.resources ?? []).every((ref) => TRACEABLE.has(ref.kind))) continue;
    reads++;
    const b = build(row, template, TEAM_A);
    const r = await send(row.method, b, alice);
    if (!r.upstream.some(forwarded) || r.status !== 200) problems.push(`${row.method} ${b.path} (${row.op}): status ${r.status}, forwarded ${r.upstream.some(forwarded)}: ${r.text.slice(0, 200)}`);
  }
  assert.ok(reads >= 40, `only ${reads} read routes`);
  assert.deepEqual(problems, [], `owner reads:\n${problems.join('\n')}`);
});
