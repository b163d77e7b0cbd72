/**
 * What a starting gateway loads (cold start, docs/performance.md): modules for features it is
 * not using stay unloaded until first use, and Fastify's JSON-schema compilers are never loaded
 * because no Gatehouse route declares a Fastify schema (a route that does is refused at start).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { REFUSE_ROUTE_SCHEMAS } from '../../src/server/gatehouse.ts';
import { childEnv, NODE, ROOT } from '../harness/paths.ts';

/** Starts a gateway (local users, SQLite, file audit) in a fresh process and reports what it loaded. */
function loadedByAStartedGateway(): { bundledUndici: boolean; packages: string[] } {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-startup-'));
  const script = `
    import { createRequire, registerHooks } from 'node:module';
    // ES modules never enter require.cache: every URL resolved is recorded as well.
    const resolved = new Set();
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.add(r.url); return r; } });
    const { loadConfig } = await import('./src/config/load.ts');
    const { startGatehouse } = await import('./src/main.ts');
    const config = loadConfig({ env: {}, overrides: {
      dataDir: ${JSON.stringify(dataDir)},
      mlflow: { url: 'http://127.0.0.1:9' },
      server: { public: { host: '127.0.0.1', port: 0 }, internal: { host: '127.0.0.1', port: 0 } },
      auth: { providers: [{ type: 'local' }] },
      audit: { sinks: [{ type: 'file' }] },
      log: { level: 'error' },
    } });
    const gh = await startGatehouse(config, { env: { GATEHOUSE_ADMIN_PASSWORD: 'startup-test-password-1' } });
    const packages = [...Object.keys(createRequire(import.meta.url).cache), ...resolved]
      .map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1])
      .filter((p) => p !== undefined);
    const bundledUndici = process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
    await gh.close();
    process.stdout.write(JSON.stringify({ bundledUndici, packages: [...new Set(packages)] }));
  `;
  try {
    const r = spawnSync(NODE, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: childEnv() });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { bundledUndici: boolean; packages: string[] };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('a started gateway has not loaded what its configuration does not use', () => {
  const loaded = loadedByAStartedGateway();
  // The probe itself works: the CommonJS packages every gateway needs are listed.
  for (const needed of ['fastify', 'undici', 'prom-client']) assert.ok(loaded.packages.includes(needed), `${needed} in ${loaded.packages.join(' ')}`);
  // GraphQL (first /graphql request), Redis and PostgreSQL (only when configured), the OpenTelemetry tracing SDK (only when tracing is on), and Fastify's schema compilers (never).
  for (const unused of ['graphql', 'ioredis', 'pg', '@opentelemetry/sdk-trace', '@opentelemetry/core', 'ajv', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler']) {
    assert.ok(!loaded.packages.includes(unused), `${unused} was loaded at start`);
  }
  // node:http imported as an ES module would have run Node's bundled undici for its WebSocket export.
  assert.equal(loaded.bundledUndici, false);
});

test('a Fastify route that declares a JSON schema is refused when the server gets ready', async () => {
  const app = Fastify({ schemaController: REFUSE_ROUTE_SCHEMAS });
  app.post('/with-schema', { schema: { body: { type: 'object' } } }, async () => ({}));
  await assert.rejects(async () => void (await app.ready()), /POST \/with-schema declares a Fastify route schema/);

  const plain = Fastify({ schemaController: REFUSE_ROUTE_SCHEMAS });
  plain.get('/plain', async () => ({ ok: true }));
  assert.deepEqual((await plain.inject('/plain')).json(), { ok: true });
  await plain.close();
});
