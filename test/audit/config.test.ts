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

/** The `audit` problems of a configuration with these sinks, and the whole error's text; fails when it loads. */
function refusedSinks(sinks: unknown[]): { problems: string[]; text: string } {
  try {
    loadConfig({ env: {}, overrides: { audit: { sinks } } });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const problems = err.problems.filter((p) => p.startsWith('audit'));
    return { problems, text: `${err.message}\n${problems.join('\n')}` };
  }
  return assert.fail('the configuration was accepted');
}

test('network sinks: defaults, and what their sub-schemas refuse, with paths', () => {
  const c = loadConfig({ env: { GATEHOUSE_AUDIT__SINKS: '[{type: syslog, url: "tls://siem:6514"}, {type: otlp, url: "http://collector:4318/v1/logs"}]' } });
  assert.deepEqual(
    c.audit.sinks.map((s) => (s.type === 'syslog' || s.type === 'otlp' ? [s.type, s.format, s.spool.maxBytes, s.retryBaseMs, s.timeoutMs] : [])),
    [
      ['syslog', 'native', 256 * 1024 * 1024, 250, 5000],
      ['otlp', 'native', 256 * 1024 * 1024, 250, 5000],
    ],
  );
  const { problems } = refusedSinks([
    { type: 'syslog', url: 'udp://siem:514' },
    { type: 'syslog', id: 'b', url: 'tcp://siem' },
    { type: 'syslog', id: 'c', url: 'tcp://siem:514', ca: '/ca.pem' },
    { type: 'syslog', id: 'd', url: 'tls://siem:6514', cert: '/c.pem' },
    { type: 'otlp', url: 'grpc://collector:4317', format: 'cef' },
  ]);
  for (const path of ['audit.sinks.0.url', 'audit.sinks.1.url', 'audit.sinks.2.url', 'audit.sinks.3.cert', 'audit.sinks.4.url', 'audit.sinks.4.format']) {
    assert.match(problems.join('\n'), new RegExp(`^${path.replace(/\./g, '\\.')}: `, 'm'), problems.join('\n'));
  }
});

test('a receiver url with a user name or password is refused, without echoing it: it would show in logs and /readyz', () => {
  // OTLP/HTTP takes credentials in `headers` (fetch refuses a url with them, and its error quotes
  // the url); syslog has none. Either way the password would reach the log and /readyz.
  const { problems, text } = refusedSinks([
    { type: 'otlp', url: 'http://collector:s3cret-otlp@collector:4318/v1/logs' },
    { type: 'syslog', url: 'tls://siem:s3cret-syslog@siem:6514' },
  ]);
  assert.deepEqual(problems.map((p) => p.split(':')[0]), ['audit.sinks.0.url', 'audit.sinks.1.url'], text);
  assert.ok(!text.includes('s3cret'), 'the password is not repeated');
});
