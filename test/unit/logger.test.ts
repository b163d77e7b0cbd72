/**
 * The logger's redaction: every credential-bearing value is censored wherever it appears, but a
 * configuration section that shares a header's name (`authorization: { mode }`) is shown — the
 * startup line used to say `"authorization": "[redacted]"` (issue 20, "Messages").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, Secret } from '../../src/lib/logger.ts';

function capture(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('info', sink), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a configuration mapping named like a header is shown, its secret-named fields still censored', () => {
  const { log, lines } = capture();
  log.info({ authorization: { mode: 'policy' } }, 'gatehouse listening');
  log.info({ authorization: { mode: 'policy', secret: 's3cr3t-value' } }, 'nested');
  const [listening, nested] = lines();
  assert.deepEqual(listening!.authorization, { mode: 'policy' });
  assert.deepEqual(nested!.authorization, { mode: 'policy', secret: '[redacted]' });
});

test('secret-looking values stay redacted: header values as strings or lists, secret-named fields at any depth, Secret', () => {
  const { log, lines } = capture();
  const credential = 'Bearer gth_pat_0f3a9c1b2d4e_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  log.info({ authorization: credential });
  log.info({ cookie: 'gatehouse_session=abc' });
  log.info({ headers: { authorization: 'Basic YWRtaW46cGFzc3dvcmQ=', cookie: 'a=b', 'set-cookie': ['s=1'] } });
  log.info({ req: { headers: { authorization: credential } } });
  log.info({ authorization: [credential] });
  log.info({ password: 'hunter2-hunter2', token: { id: 'x' }, provider: { clientSecret: 'cs', secret: 'sec' } });
  log.info({ wrapped: new Secret('hunter2-hunter2') });
  const text = lines().map((l) => JSON.stringify(l)).join('\n');
  for (const secret of ['gth_pat_0f3a9c1b2d4e', 'gatehouse_session=abc', 'YWRtaW46', 'a=b', 's=1', 'hunter2', '"cs"', '"sec"', '"id":"x"']) {
    assert.doesNotMatch(text, new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${secret} leaked:\n${text}`);
  }
  assert.equal(lines().filter((l) => JSON.stringify(l).includes('[redacted]')).length, 7, text);
});
