/**
 * A generated sweep over every concrete route of the table, under both prefixes: as an
 * anonymous caller, as a member of another tenant choosing this one, as a member with no
 * role, and as a holder of each built-in role. A recording upstream proves that nothing
 * forbidden reaches MLflow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { concretePaths } from '../../src/routes/mlflow/expand.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { BUILTIN_ROLES } from '../../src/policy/roles.ts';
import { familyOf } from '../../src/routes/mlflow/families.ts';

let stub: StubUpstream;
let gh: InProcess;
const PASSWORD = 'sweep-password-123';

before(async () => {
  stub = await startStub((req, res, r) => {
    if (req.url === '/api/3.0/mlflow/server-info') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"workspaces_enabled":true}');
    }
    jsonOk(req, res, r);
  });
  gh = await startInProcess(stub.url, {
    tenants: [
      { name: 'team-a', members: { users: ['nora', 'vic', 'cam', 'mo', 'ada'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
      { role: 'viewer', user: 'vic', tenant: 'team-a' },
      { role: 'contributor', user: 'cam', tenant: 'team-a' },
      { role: 'model-approver', user: 'mo', tenant: 'team-a' },
      { role: 'admin', user: 'ada' },
    ],
    // The sweep sends every route from one address far faster than any client; limits have their own suite (test/ratelimit).
    'rateLimits.enabled': false,
  });
  const hash = await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 });
  for (const u of ['bob', 'nora', 'vic', 'cam', 'mo', 'ada']) await gh.store.createUser({ username: u, passwordHash: hash, admin: false });
});
after(async () => {
  await gh.close();
  await stub.close();
});

/** A concrete request for a template: parameters filled with plausible values. */
function concrete(template: string): string {
  return template.replace(/\{([A-Za-z_]+)(:path)?\}/g, (_, name: string, isPath?: string) => (isPath ? (name === 'artifact_path' ? '1/r1/artifacts/f.bin' : 'a/b') : `${name}-1`));
}

function send(row: RouteRow, path: string, headers: Record<string, string>): Promise<number> {
  const u = new URL(gh.url);
  const body = row.body === 'json' ? '{}' : row.body === 'stream' && row.method !== 'GET' ? 'bytes' : undefined;
  const h: Record<string, string> = { ...headers };
  if (body !== undefined) {
    h['content-type'] = row.body === 'json' ? 'application/json' : 'application/octet-stream';
    h['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: row.method, path, headers: h }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cases = MLFLOW_ROUTES.flatMap((row) => concretePaths(row).map((template) => ({ row, template, path: concrete(template) })));

test(`the sweep covers every route of the table (${cases.length} concrete routes)`, () => {
  assert.ok(cases.length >= 550);
});

async function sweep(label: string, headers: Record<string, string>, expectForwarded: (row: RouteRow) => boolean, expectStatus: (row: RouteRow) => number | undefined) {
  const problems: string[] = [];
  for (const { row, path } of cases) {
    stub.requests.length = 0;
    const status = await send(row, path, headers);
    const reached = stub.requests.some((r) => r.url.split('?')[0] === path);
    const should = expectForwarded(row);
    if (reached !== should) problems.push(`${row.method} ${path} (${row.op}, ${row.action}): ${reached ? 'reached MLflow' : 'not forwarded'}, status ${status}`);
    const want = expectStatus(row);
    if (want !== undefined && status !== want) problems.push(`${row.method} ${path} (${row.op}): status ${status}, expected ${want}`);
  }
  assert.deepEqual(problems, [], `${label}:\n${problems.join('\n')}`);
}

test('anonymous: only public routes are forwarded; everything else is 401', async () => {
  await sweep('anonymous', {}, (row) => row.action === 'public', (row) => (row.action === 'public' ? 200 : 401));
});

test('a member of another tenant choosing this one: nothing tenant-scoped is forwarded', async () => {
  const foreign = { authorization: basic('bob', PASSWORD), 'x-mlflow-workspace': 'team-a' };
  const global = (row: RouteRow) => row.action === 'public' || (row.action === 'authenticated' && row.tenancy === 'global');
  await sweep(
    'foreign tenant',
    foreign,
    (row) => global(row) || row.op === 'workspaces.list',
    (row) => (global(row) || row.op === 'workspaces.list' || row.disabledAnswer !== undefined ? 200 : 403),
  );
});

test('a member with no role: only public, authenticated and own-workspace routes are forwarded', async () => {
  const nora = { authorization: basic('nora', PASSWORD) };
  const allowed = (row: RouteRow) => row.action === 'public' || row.action === 'authenticated' || row.op === 'workspaces.list';
  // The sweep's GraphQL body (`{}`) has no query: refused as malformed before any decision.
  await sweep('no role', nora, allowed, (row) => (allowed(row) || row.disabledAnswer !== undefined ? 200 : row.op === 'graphql.query' ? 400 : 403));
});

/**
 * Each built-in role, tenant-wide in team-a. Two checks per route: whatever reached MLflow was
 * allowed by the engine (and whatever the engine denied got 403/404, or a disabled list's empty
 * answer, and did not reach it), and
 * an independent expectation from the role's definition for the plain cases (route-level
 * actions, read and edit on the experiment and model families).
 */
const ROLE_USERS = [
  { user: 'vic', role: 'viewer', reads: true, writes: false, admin: false },
  { user: 'cam', role: 'contributor', reads: true, writes: true, admin: false },
  { user: 'mo', role: 'model-approver', reads: true, writes: false, admin: false },
  { user: 'ada', role: 'admin', reads: true, writes: true, admin: true },
] as const;

for (const who of ROLE_USERS) {
  test(`role ${who.role}: nothing the engine denies reaches MLflow, on every route and prefix`, async () => {
    const problems: string[] = [];
    const headers = { authorization: basic(who.user, PASSWORD), 'x-mlflow-workspace': 'team-a' };
    for (const { row, path } of cases) {
      stub.requests.length = 0;
      const before = gh.events.length;
      const status = await send(row, path, headers);
      const reached = stub.requests.some((r) => r.url.split('?')[0] === path);
      let event = gh.events.slice(before).find((e) => e.ctx.req.url === path);
      for (let i = 0; !event && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 5));
        event = gh.events.slice(before).find((e) => e.ctx.req.url === path);
      }
      const effect = event?.ctx.decision?.effect;
      const where = `${row.method} ${path} (${row.op}, ${row.action})`;
      if (reached && effect !== 'allow') problems.push(`${where}: reached MLflow with decision ${effect}`);
      // A disabled feature's list is denied and answered empty by the gateway itself (routes/mlflow/disabled-answer.ts).
      const refusal = row.disabledAnswer !== undefined ? [200] : [403, 404];
      if (effect === 'deny' && (reached || !refusal.includes(status))) problems.push(`${where}: denied but status ${status}, reached ${reached}`);
      // The independent expectation, for rows whose outcome the role alone decides.
      const family = familyOf(row);
      const plain = (family === 'experiment' || family === 'model') && row.tenancy === 'scoped' && (row.resources ?? []).every((r) => r.action === undefined);
      let expected: boolean | undefined;
      if (row.action === 'deny') expected = false;
      else if (row.action === 'admin') expected = who.admin;
      else if (row.action === 'public') expected = true;
      else if (plain && row.action === 'read') expected = who.reads;
      else if (plain && row.action === 'edit') expected = who.writes || BUILTIN_ROLES.find((r) => r.name === who.role)!.operations.includes(row.op);
      if (row.op === 'graphql.query') expected = false; // the sweep's body `{}` is malformed GraphQL: 400 before any decision
      if (expected !== undefined && reached !== expected) problems.push(`${where}: ${reached ? 'reached' : 'not forwarded'} (status ${status}), expected ${expected ? 'forwarded' : 'refused'}`);
    }
    assert.deepEqual(problems, [], `${who.role}:\n${problems.join('\n')}`);
  });
}
