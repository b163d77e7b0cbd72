/**
 * Development mode through the real gateway: X-Subject / X-Tenant / X-Groups are believed on a
 * loopback listener (and never forwarded), the gateway refuses to start on a non-loopback
 * address unless forced, and every start logs a loud warning.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { isLoopbackHost } from '../../src/identity/dev-headers.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startGatehouse } from '../../src/main.ts';
import { startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const POLICY = { tenants: [{ name: 'default', members: { users: [] } }] };
const DEV = { 'auth.providers': [{ type: 'dev-headers' }], ...POLICY };
let stub: StubUpstream;

/** A logger whose output the test can read. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('info', stream), lines };
}
const warned = (lines: string[]) => lines.some((l) => /DEVELOPMENT MODE/.test(l) && (JSON.parse(l) as { level: number }).level >= 40);

before(async () => (stub = await startStub()));
after(async () => stub?.close());
beforeEach(() => (stub.requests.length = 0));

test('on loopback, the headers are the identity; they never reach MLflow; the start is logged loudly', async () => {
  const { log, lines } = capturingLogger();
  const gh: InProcess = await startInProcess(stub.url, DEV, { log });
  try {
    assert.ok(warned(lines), 'a warning at start');
    const get = (headers: Record<string, string>) => fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers });
    const ok = await get({ 'x-subject': 'dana', 'x-tenant': 'default', 'x-groups': 'demo, ml' });
    assert.equal(ok.status, 200);
    const p = gh.events.at(-1)!.ctx.principal!;
    assert.deepEqual({ id: p.id, tenants: p.tenants, groups: p.groups, roles: p.roles }, { id: 'dev:dana', tenants: ['default'], groups: ['demo', 'ml'], roles: ['contributor'] });
    const sent = stub.requests.find((r) => r.url.startsWith('/api/2.0/'))!;
    for (const h of ['x-subject', 'x-tenant', 'x-groups']) assert.equal(sent.headers[h], undefined, `${h} reached MLflow`);

    assert.equal((await get({})).status, 401, 'no X-Subject: no identity');
    assert.equal((await get({ 'x-subject': 'dana' })).status, 403, 'no tenant: no rights');
    assert.equal((await get({ 'x-subject': 'dana', 'x-tenant': 'elsewhere' })).status, 403);
    assert.equal((await get({ 'x-subject': 'da na', 'x-tenant': 'default' })).status, 401);
    assert.equal(stub.requests.filter((r) => r.url.startsWith('/api/2.0/')).length, 1);
  } finally {
    await gh.close();
  }
});

test('refuses to start on a non-loopback address unless allowNonLoopback is set', async () => {
  const publicAll = { 'server.public': { host: '0.0.0.0', port: 0 } };
  await assert.rejects(startInProcess(stub.url, { ...DEV, ...publicAll }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /auth\.providers\.0\.allowNonLoopback: dev-headers .* 0\.0\.0\.0/);
    return true;
  });
  // A configuration built in code, past the schema, is stopped by the composition root as well.
  const valid = loadConfig({ env: {}, overrides: { dataDir: '/nonexistent/never-created', 'server.public': { host: '127.0.0.1', port: 0 }, 'auth.providers': [{ type: 'dev-headers' }], 'log.level': 'silent' } });
  const forged = { ...valid, server: { ...valid.server, public: { host: '192.0.2.10', port: 0 } } };
  await assert.rejects(startGatehouse(forged, { log: createLogger('silent') }), /allowNonLoopback/);

  const { log, lines } = capturingLogger();
  const forced = await startInProcess(stub.url, { ...DEV, ...publicAll, 'auth.providers': [{ type: 'dev-headers', allowNonLoopback: true }] }, { log });
  try {
    assert.equal(forced.address.address, '0.0.0.0');
    assert.ok(warned(lines), 'forced, and still warned');
  } finally {
    await forced.close();
  }
});

test('what counts as loopback', () => {
  for (const h of ['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'gatehouse.example.com', '128.0.0.1', '::ffff:10.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});
