/**
 * A generated sweep over every concrete route of the table, under both prefixes: as an
 * anonymous caller, as a member of another tenant choosing this one, and as a member with no
 * role. A recording upstream proves that nothing forbidden reaches MLflow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { concretePaths } from '../../src/routes/mlflow/expand.ts';
import type { RouteRow } from '../../src/routes/mlflow/types.ts';
import { hashPassword } from '../../src/identity/password.ts';

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
      { name: 'team-a', members: { users: ['nora'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [{ role: 'contributor', user: 'bob', tenant: 'team-b' }],
    // The sweep sends every route from one address far faster than any client; limits have their own suite (test/ratelimit).
    'rateLimits.enabled': false,
  });
  const hash = await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 });
  for (const u of ['bob', 'nora']) await gh.store.createUser({ username: u, passwordHash: hash, admin: false });
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
    (row) => (global(row) || row.op === 'workspaces.list' ? 200 : 403),
  );
});

test('a member with no role: only public, authenticated and own-workspace routes are forwarded', async () => {
  const nora = { authorization: basic('nora', PASSWORD) };
  const allowed = (row: RouteRow) => row.action === 'public' || row.action === 'authenticated' || row.op === 'workspaces.list';
  // The sweep's GraphQL body (`{}`) has no query: refused as malformed before any decision.
  await sweep('no role', nora, allowed, (row) => (allowed(row) ? 200 : row.op === 'graphql.query' ? 400 : 403));
});
