/**
 * Fail fast at start (issue 20): a listener that cannot bind — public, public with TLS, internal
 * (`/metrics`) — stops the start with a message naming the setting to change, and `gatehouse
 * serve` exits non-zero instead of serving without it (a busy 9090 used to be logged and ignored).
 * And the startup line shows the authorization mode, not `[redacted]`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startGatehouse } from '../../src/main.ts';
import { ListenError } from '../../src/server/listen-error.ts';
import { startInProcess } from '../harness/gatehouse.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { createPki, type Pki } from '../harness/pki.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

let stub: StubUpstream;
let busy: Server;
let busyPort: number;
let pki: Pki;
const dirs: string[] = [];

before(async () => {
  stub = await startStub();
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
  pki = createPki();
});
after(async () => {
  await stub?.close();
  await new Promise((r) => busy?.close(r));
  pki?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `gatehouse serve` as an operator runs it; resolves with its exit code and stderr once it ends by itself. */
function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-listen-'));
  dirs.push(dataDir);
  const child = spawn(join(ROOT, 'bin/gatehouse'), ['serve'], {
    env: childEnv({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_MLFLOW__URL: stub.url, GATEHOUSE_SERVER__PUBLIC__HOST: '127.0.0.1', GATEHOUSE_AUDIT__SINKS: '[]', GATEHOUSE_ADMIN_PASSWORD: 'listen-test-password-1', ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // No wall-clock bound of our own: the suite's timeout ends a gateway that keeps running.
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('a listener that cannot bind stops gatehouse serve', { timeout: 60_000 }, () => {
  test('the internal (/metrics) port in use: exit code 1, the message names server.internal.port and its variable', async () => {
    const r = await serve({ GATEHOUSE_SERVER__PUBLIC__PORT: '0', GATEHOUSE_SERVER__INTERNAL__PORT: String(busyPort) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`internal listener \\(/metrics\\) 127\\.0\\.0\\.1:${busyPort} cannot listen: the port is in use`));
    assert.match(r.stderr, /set server\.internal\.port \(GATEHOUSE_SERVER__INTERNAL__PORT\) to a free port/);
  });

  test('the public port in use: exit code 1, the message names server.public.port', async () => {
    const r = await serve({ GATEHOUSE_SERVER__PUBLIC__PORT: String(busyPort), GATEHOUSE_SERVER__INTERNAL__PORT: '0' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`public listener 127\\.0\\.0\\.1:${busyPort} cannot listen`));
    assert.match(r.stderr, /set server\.public\.port \(GATEHOUSE_SERVER__PUBLIC__PORT\)/);
  });
});

describe('startGatehouse refuses to start without every listener', { timeout: 60_000 }, () => {
  const config = (overrides: Record<string, unknown>) =>
    loadConfig({
      env: {},
      overrides: {
        dataDir: mkdtempSync(join(tmpdir(), 'gh-listen-')),
        'server.public': { host: '127.0.0.1', port: 0 },
        'server.internal': { host: '127.0.0.1', port: 0 },
        'audit.sinks': [],
        'mlflow.url': stub.url,
        'auth.providers': [{ type: 'local', scrypt: { cost: 1024 } }],
        ...overrides,
      },
    });

  test('the public TLS listener on a busy port: a ListenError naming server.public (TLS)', async () => {
    const c = config({ 'server.public': { host: '127.0.0.1', port: busyPort }, 'server.tls': { certFile: pki.server.certFile, keyFile: pki.server.keyFile } });
    dirs.push(c.dataDir);
    await assert.rejects(startGatehouse(c, { log: createLogger('silent'), env: {} }), (err: unknown) => {
      assert.ok(err instanceof ListenError, String(err));
      assert.equal(err.setting, 'server.public');
      assert.equal(err.code, 'EADDRINUSE');
      assert.match(err.message, /public listener \(TLS\) 127\.0\.0\.1:\d+ cannot listen/);
      return true;
    });
  });

  test('an address this machine does not have: the message names server.internal.host', async () => {
    const c = config({ 'server.internal': { host: '192.0.2.1', port: 0 } });
    dirs.push(c.dataDir);
    await assert.rejects(startGatehouse(c, { log: createLogger('silent'), env: {} }), /this machine has no address 192\.0\.2\.1: set server\.internal\.host \(GATEHOUSE_SERVER__INTERNAL__HOST\)/);
  });
});

test('the startup line shows the authorization mode', async () => {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const gh = await startInProcess(stub.url, {}, { log: createLogger('info', sink) });
  await gh.close();
  const line = chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'gatehouse listening');
  assert.ok(line, chunks.join(''));
  assert.deepEqual(line.authorization, { mode: 'policy' });
});
