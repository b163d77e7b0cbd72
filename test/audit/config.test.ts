/** The `audit` configuration section: defaults, environment overrides, and what it refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../src/config/load.ts';

test('defaults: best effort to stdout; the internal listener on loopback 9090', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.audit.mode, 'best-effort');
  assert.deepEqual(c.audit.sinks, [{ type: 'stdout' }]);
  assert.deepEqual(c.server.internal, { host: '127.0.0.1', port: 9090 });
});

test('sinks from the environment, with their own defaults', () => {
  const c = loadConfig({ env: { GATEHOUSE_AUDIT__MODE: 'required', GATEHOUSE_AUDIT__SINKS: '[{type: file, path: /tmp/a.jsonl}, {type: store}]' } });
  assert.equal(c.audit.mode, 'required');
  assert.deepEqual(c.audit.sinks[0], { type: 'file', path: '/tmp/a.jsonl', maxBytes: 100 * 1024 * 1024, maxAgeMs: 86_400_000, fsync: true });
});

test('required without a durable sink, and two sinks with one id, are refused with their paths', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { audit: { mode: 'required', sinks: [{ type: 'stdout' }, { type: 'webhook', url: 'http://x/' }, { type: 'webhook', url: 'http://y/' }] } } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.filter((p) => p.startsWith('audit')),
        ['audit.sinks.2.id: sink id webhook is used twice; give each sink of a type its own id', 'audit.mode: required needs at least one durable sink (file, store, syslog or otlp)'],
      );
      return true;
    },
  );
});
