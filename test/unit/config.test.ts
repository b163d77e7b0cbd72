import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const tmp = mkdtempSync(join(tmpdir(), 'gh-config-'));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

test('defaults are complete and frozen', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.server.public.port, 8080);
  assert.equal(c.mlflow.url, 'http://127.0.0.1:5000');
  assert.equal(c.authorization.mode, 'policy');
  assert.deepEqual(c.auth.providers.map((p) => p.type), ['token', 'local']);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server.public));
});

test('every problem is reported at once, each with its dotted path', () => {
  const f = file(
    'bad.yaml',
    ['server:', '  public: { port: 70000 }', '  maxJsonBodyBytes: "big"', 'mlflow:', '  url: ftp://x/y', 'authorization:', '  mode: yolo', 'typo: 1'].join('\n'),
  );
  const err = (() => {
    try {
      loadConfig({ file: f, env: {} });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof ConfigError, 'expected a ConfigError');
  const paths = err.problems.map((p) => p.split(':')[0]);
  for (const expected of ['server.public.port', 'server.maxJsonBodyBytes', 'mlflow.url', 'authorization.mode', 'typo']) {
    assert.ok(paths.includes(expected), `missing problem for ${expected} in:\n${err.message}`);
  }
  assert.ok(err.problems.includes('typo: unknown option'), err.message);
});

test('YAML syntax errors and duplicate keys are reported with the file name', () => {
  assert.throws(() => loadConfig({ file: file('dup.yaml', 'mlflow:\n  url: http://a\n  url: http://b\n'), env: {} }), (e: unknown) => e instanceof ConfigError && /dup\.yaml/.test(e.message));
});

test('GATEHOUSE_* environment variables override the file, with YAML scalars', () => {
  const f = file('ok.yaml', 'mlflow:\n  url: http://127.0.0.1:5001\nserver:\n  public: { port: 9000 }\n');
  const c = loadConfig({
    file: f,
    env: { GATEHOUSE_MLFLOW__URL: 'http://10.0.0.1:5000', GATEHOUSE_SERVER__PUBLIC__PORT: '8181', GATEHOUSE_DATA_DIR: '/var/lib/gh', GATEHOUSE_LOG__REQUESTS: 'false' },
  });
  assert.equal(c.mlflow.url, 'http://10.0.0.1:5000');
  assert.equal(c.server.public.port, 8181);
  assert.equal(c.dataDir, '/var/lib/gh');
  assert.equal(c.log.requests, false);
});

test('_FILE reads the value from a file; an unreadable file is a reported problem', () => {
  const secret = file('url.txt', 'http://127.0.0.1:7000\n');
  assert.equal(loadConfig({ env: { GATEHOUSE_MLFLOW__URL_FILE: secret } }).mlflow.url, 'http://127.0.0.1:7000');
  assert.throws(() => loadConfig({ env: { GATEHOUSE_MLFLOW__URL_FILE: join(tmp, 'nope') } }), /GATEHOUSE_MLFLOW__URL_FILE: cannot read/);
});

test('an override for an unknown option is an error, not silently ignored', () => {
  assert.throws(() => loadConfig({ env: { GATEHOUSE_MLFLOW__URLL: 'http://x' } }), (e: unknown) => e instanceof ConfigError && e.message.includes('mlflow.urll: unknown option (from GATEHOUSE_MLFLOW__URLL)'));
});

test('non-config GATEHOUSE_ variables are left alone', () => {
  const c = loadConfig({ env: { GATEHOUSE_ADMIN_PASSWORD: 'x', GATEHOUSE_ADMIN_USER: 'root', GATEHOUSE_CONFIG: '/x' } });
  assert.equal(c.server.public.port, 8080);
});
