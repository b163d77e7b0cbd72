/**
 * Parameters and bodies: every way a request could name a resource that the gateway reads one
 * way and MLflow another. The world (world.ts) gives alice contributor in team-a with an
 * explicit deny on experiment 5; each case asserts the exact refusal and that nothing reached
 * MLflow — or, for the controls, exactly what did.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, errorCode, post, pyInt, send, startWorld, type World } from './world.ts';

let w: World;
let base: string;
before(async () => {
  w = await startWorld();
  base = w.gh.url;
});
after(() => w.close());
beforeEach(() => w.reset());

const alice = auth('alice');
const vera = auth('vera');
const nothingForwarded = (what: string) => w.nothingForwarded(what);

describe('numeric-id tricks: MLflow reads experiment ids with Python int()', () => {
  // Each of these is experiment 5 (or the default experiment) to MLflow, and a string no binding names to a naive gateway.
  const variants = ['05', '+5', ' 5', '5 ', '５', '0005', '٥', '5_0', '-0', '', '5.0', '0x5', '5\u0000'];

  test('the stub models MLflow: these spellings are experiment 5 to it', () => {
    for (const v of ['05', '+5', ' 5', '５', '٥', '0005']) assert.equal(pyInt(v), 5, v);
  });

  test('controls: the canonical id is denied (explicit deny) and another is forwarded', async () => {
    const denied = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=5', { authorization: alice });
    assert.equal(denied.status, 403);
    nothingForwarded('a denied experiment');
    const ok = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: alice });
    assert.equal(ok.status, 200);
    assert.deepEqual(w.forwarded().map((r) => r.url), ['/api/2.0/mlflow/experiments/get?experiment_id=1']);
  });

  for (const prefix of ['/api', '/ajax-api']) {
    for (const v of variants) {
      test(`GET ${prefix} experiments/get?experiment_id=${JSON.stringify(v)}: 400, not forwarded`, async () => {
        const res = await send(base, 'GET', `${prefix}/2.0/mlflow/experiments/get?experiment_id=${encodeURIComponent(v)}`, { authorization: alice });
        assert.equal(res.status, 400, res.body);
        assert.equal(errorCode(res), 'INVALID_PARAMETER_VALUE');
        nothingForwarded(v);
      });
    }
  }

  for (const v of ['05', '+5', '５', ' 5', '']) {
    test(`JSON body ids: runs/create and runs/search with ${JSON.stringify(v)} are refused`, async () => {
      const create = await post(base, '/api/2.0/mlflow/runs/create', alice, { experiment_id: v });
      assert.equal(create.status, 400, create.body);
      const search = await post(base, '/api/2.0/mlflow/runs/search', alice, { experiment_ids: ['1', v] });
      assert.equal(search.status, 400, search.body);
      const camel = await post(base, '/api/2.0/mlflow/runs/create', alice, { experimentId: v });
      assert.equal(camel.status, 400, camel.body);
      nothingForwarded(v);
    });
  }

  test('the OTLP experiment header is an experiment id too', async () => {
    for (const v of ['05', '+5', '5_0', '-0']) {
      const res = await send(base, 'POST', '/v1/traces', { authorization: alice, 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': v }, 'x');
      assert.equal(res.status, 400, `${v}: ${res.body}`);
    }
    const denied = await send(base, 'POST', '/v1/traces', { authorization: alice, 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': '5' }, 'x');
    assert.equal(denied.status, 403);
    nothingForwarded('OTLP');
  });

  test('a binding cannot name a non-canonical id either (config refuses it)', async () => {
    const { loadConfig } = await import('../../src/config/load.ts');
    assert.throws(() =>
      loadConfig({ env: {}, overrides: { bindings: [{ role: 'viewer', effect: 'deny', user: 'x', tenant: 'default', experiment: { id: '05' } }] } }),
    );
  });
});

describe('ids of another tenant, alone or in lists', () => {
  test('a run of team-b: not found in team-a (alice is resolved), not forwarded', async () => {
    const res = await send(base, 'GET', '/api/2.0/mlflow/runs/get?run_id=rb9', { authorization: alice });
    assert.equal(res.status, 404);
    assert.equal(errorCode(res), 'RESOURCE_DOES_NOT_EXIST');
    nothingForwarded('foreign run');
  });

  test('a list mixing own and foreign experiments: refused whole', async () => {
    const res = await post(base, '/api/2.0/mlflow/runs/search', alice, { experiment_ids: ['1', '9'] });
    assert.equal(res.status, 404);
    const mixed = await post(base, '/api/2.0/mlflow/runs/search', alice, { experiment_ids: ['1', '5'] });
    assert.equal(mixed.status, 403, 'one denied experiment in the list denies the call');
    nothingForwarded('mixed list');
  });

  test('a tenant-wide viewer is forwarded pinned to its own workspace (MLflow scopes the ids)', async () => {
    const res = await post(base, '/api/2.0/mlflow/runs/search', vera, { experiment_ids: ['1', '9'] }, { 'x-mlflow-workspace': 'team-a' });
    assert.equal(res.status, 200);
    const f = w.forwarded();
    assert.equal(f.length, 1);
    assert.equal(f[0]!.headers['x-mlflow-workspace'], 'team-a');
  });

  test('choosing the foreign workspace is refused outright', async () => {
    const res = await post(base, '/api/2.0/mlflow/runs/search', vera, { experiment_ids: ['9'] }, { 'x-mlflow-workspace': 'team-b' });
    assert.equal(res.status, 403);
    nothingForwarded('foreign workspace');
  });
});

describe('duplicate and alias parameters in the query', () => {
  const cases: [string, string][] = [
    ['experiment_id=1&experiment_id=5', 'repeated'],
    ['experiment_id=5&experiment_id=1', 'repeated, other order'],
    ['experiment_id=1&experimentId=5', 'snake and camel'],
    ['experimentId=1&experiment_id=5', 'camel and snake'],
    ['experiment_id=1&experiment%5Fid=5', 'encoded underscore repeats'],
    ['experiment_id=%GG', 'invalid percent-encoding'],
  ];
  for (const [q, name] of cases) {
    test(`experiments/get?${q} (${name}): 400`, async () => {
      const res = await send(base, 'GET', `/api/2.0/mlflow/experiments/get?${q}`, { authorization: alice });
      assert.equal(res.status, 400, res.body);
      nothingForwarded(q);
    });
  }

  test('an encoded key is read as MLflow reads it: experiment%5Fid=5 is experiment 5 (denied)', async () => {
    const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment%5Fid=5', { authorization: alice });
    assert.equal(res.status, 403);
    const plus = await send(base, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=a-secret', { authorization: alice });
    assert.equal(plus.status, 403, 'by name: the same experiment');
    nothingForwarded('encoded key');
  });

  for (const q of ['run_id=ra1&run_uuid=ra5', 'run_uuid=ra5&run_id=ra1', 'run_id=ra1&runUuid=ra5', 'runId=ra1&run_uuid=ra5', 'run_id=&run_uuid=ra5']) {
    test(`runs/get?${q}: run_id and run_uuid disagree → 400`, async () => {
      const res = await send(base, 'GET', `/api/2.0/mlflow/runs/get?${q}`, { authorization: alice });
      assert.equal(res.status, 400, res.body);
      nothingForwarded(q);
    });
  }

  test('run_uuid alone is read (MLflow falls back to it): the run of experiment 5 is denied', async () => {
    const res = await send(base, 'GET', '/api/2.0/mlflow/runs/get?run_uuid=ra5', { authorization: alice });
    assert.equal(res.status, 403);
    nothingForwarded('run_uuid');
  });

  test('a query on a POST/PATCH/DELETE JSON route is refused (MLflow reads only the body there)', async () => {
    const a = await post(base, '/api/2.0/mlflow/runs/create?experiment_id=5', alice, { experiment_id: '1' });
    const b = await send(base, 'PATCH', '/api/2.0/mlflow/logged-models/m1?experiment_id=5', { authorization: alice, 'content-type': 'application/json' }, '{}');
    const c = await send(base, 'DELETE', '/api/2.0/mlflow/logged-models/m1?x=1', { authorization: alice, 'content-type': 'application/json' }, '{}');
    assert.deepEqual([a.status, b.status, c.status], [400, 400, 400]);
    nothingForwarded('query on JSON route');
  });
});

describe('JSON bodies', () => {
  const refused: [string, string | Buffer, Record<string, string>?][] = [
    ['duplicate keys', '{"experiment_id":"1","experiment_id":"5"}'],
    ['duplicate keys, escaped spelling', '{"experiment_id":"1","experiment\\u005fid":"5"}'],
    ['snake and camel', '{"experiment_id":"1","experimentId":"5"}'],
    ['nested duplicates', '{"experiment_id":"1","tags":[{"key":"a","key":"b"}]}'],
    ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"experiment_id":"5"}')])],
    ['UTF-16LE', Buffer.from('{"experiment_id":"5"}', 'utf16le')],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('{"experiment_id":"5"}', 'utf16le').swap16()])],
    ['NaN', '{"experiment_id":"1","start_time":NaN}'],
    ['Infinity', '{"experiment_id":"1","start_time":Infinity}'],
    ['an integer beyond 2^53', '{"experiment_id":"1","start_time":9007199254740993}'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])],
    ['overlong UTF-8 quote', Buffer.from([0x7b, 0x22, 0x61, 0xc0, 0xa2, 0x3a, 0x31, 0x7d])],
    ['trailing data', '{"experiment_id":"1"}{"experiment_id":"5"}'],
    ['an array', '[{"experiment_id":"1"}]'],
    ['a string', '"experiment_id"'],
    ['charset=utf-16', '{"experiment_id":"1"}', { 'content-type': 'application/json; charset=utf-16' }],
    ['charset=latin1', '{"experiment_id":"1"}', { 'content-type': 'application/json;charset=iso-8859-1' }],
    ['text/plain (a CSRF-simple type)', '{"experiment_id":"1"}', { 'content-type': 'text/plain' }],
    ['no content type', '{"experiment_id":"1"}', { 'content-type': '' }],
    ['form encoding', 'experiment_id=1', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['a JSON look-alike type', '{"experiment_id":"1"}', { 'content-type': 'application/json-patch+json' }],
    ['run_id and run_uuid disagree', '{"run_id":"ra1","run_uuid":"ra5","key":"k","value":"v"}'],
    ['empty run_id with run_uuid (MLflow: run_id or run_uuid)', '{"run_id":"","run_uuid":"ra5","key":"k","value":"v"}'],
    ['runId and run_uuid disagree', '{"runId":"ra1","run_uuid":"ra5","key":"k","value":"v"}'],
  ];
  test('over the structure limits: 413 RESOURCE_EXHAUSTED (deep nesting, a list or object of 200,000 items)', async () => {
    for (const [name, body] of [
      ['deep nesting', `{"experiment_id":"1","tags":${'['.repeat(200)}${']'.repeat(200)}}`],
      ['100,000 levels', `{"experiment_id":"1","tags":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`],
      ['200,000 experiment ids', `{"experiment_ids":[${'"1",'.repeat(200_000)}"5"]}`],
      ['200,000 tag keys', `{"experiment_id":"1","tags":{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":"v"`).join(',')}}}`],
    ] as const) {
      const res = await send(base, 'POST', name.includes('ids') ? '/api/2.0/mlflow/runs/search' : '/api/2.0/mlflow/runs/create', { authorization: alice, 'content-type': 'application/json' }, body);
      assert.equal(res.status, 413, `${name}: ${res.status} ${res.body}`);
      assert.equal(errorCode(res), 'RESOURCE_EXHAUSTED');
      assert.equal((JSON.parse(res.body) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_REQUEST_JSON_TOO_COMPLEX');
      nothingForwarded(name);
    }
  });

  for (const [name, body, headers] of refused) {
    test(`refused: ${name}`, async () => {
      const path = name.includes('run_') || name.includes('runId') ? '/api/2.0/mlflow/runs/set-tag' : '/api/2.0/mlflow/runs/create';
      const h: Record<string, string> = { authorization: alice, 'content-type': 'application/json', ...headers };
      if (h['content-type'] === '') delete h['content-type'];
      const res = await send(base, 'POST', path, h, body);
      assert.equal(res.status, 400, `${name}: ${res.status} ${res.body}`);
      assert.equal(errorCode(res), 'INVALID_PARAMETER_VALUE');
      nothingForwarded(name);
    });
  }

  test('charset=utf-8 (any case, quoted) is accepted', async () => {
    for (const ct of ['application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"']) {
      const res = await send(base, 'POST', '/api/2.0/mlflow/runs/create', { authorization: alice, 'content-type': ct }, '{"experiment_id":"1"}');
      assert.equal(res.status, 200, `${ct}: ${res.body}`);
    }
    assert.equal(w.forwarded().length, 2);
  });

  test('typed-wrong ids are not converted into ids: refused in MLflow\'s words, never forwarded, never escape a deny', async () => {
    const typed: [string, string, string][] = [
      ['{"experiment_id":5}', '5', 'int'],
      ['{"experiment_id":5.0}', '5.0', 'float'],
      ['{"experiment_id":5e0}', '5.0', 'float'],
      ['{"experiment_id":["5"]}', '["5"]', 'list'],
      ['{"experiment_id":{"id":"5"}}', '{"id":"5"}', 'dict'],
      ['{"experiment_id":true}', 'true', 'bool'],
    ];
    for (const [body, shown, type] of typed) {
      const res = await post(base, '/api/2.0/mlflow/runs/create', alice, body);
      assert.equal(res.status, 400, `${body}: ${res.status} ${res.body}`);
      assert.deepEqual(JSON.parse(res.body), {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Invalid value ${shown} for parameter 'experiment_id' supplied:  Hint: Value was of type '${type}'. See the API docs for more information about request parameters.`,
        gatehouse_code: 'GATEHOUSE_REQUEST_INVALID_ID_TYPE',
      });
    }
    // null is an absent field for protobuf: no experiment named, and alice may not create runs tenant-wide without one here.
    const nul = await post(base, '/api/2.0/mlflow/runs/create', alice, '{"experiment_id":null}');
    assert.equal(nul.status, 403, nul.body);
    // The foreign run behind a numeric-looking id is never looked up either.
    const linked = await post(base, '/api/2.0/mlflow/traces/link-to-run', alice, '{"trace_ids":["t"],"run_id":31}');
    assert.equal(linked.status, 400, linked.body);
    nothingForwarded('typed ids');
  });

  test('run_uuid alone in a body is the run MLflow acts on: denied for experiment 5', async () => {
    const res = await post(base, '/api/2.0/mlflow/runs/set-tag', alice, { run_uuid: 'ra5', key: 'k', value: 'v' });
    assert.equal(res.status, 403);
    const nul = await post(base, '/api/2.0/mlflow/runs/set-tag', alice, { run_id: null, run_uuid: 'ra5', key: 'k', value: 'v' });
    assert.equal(nul.status, 403, 'null run_id: MLflow falls back to run_uuid');
    nothingForwarded('run_uuid body');
  });

  test('bodies on GET are refused, even empty chunked ones', async () => {
    const a = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: alice, 'content-type': 'application/json' }, '{"experiment_id":"5"}');
    const b = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: alice, 'transfer-encoding': 'chunked' }, '');
    assert.deepEqual([a.status, b.status], [400, 400]);
    nothingForwarded('GET with body');
  });

  test('a huge body: 413 before it is read whole, by declared length and by streaming', async () => {
    const big = `{"experiment_id":"1","x":"${'a'.repeat(17 * 1024 * 1024)}"}`;
    const res = await send(base, 'POST', '/api/2.0/mlflow/runs/create', { authorization: alice, 'content-type': 'application/json' }, big).catch((e: Error) => ({ status: -1, body: e.message }));
    assert.ok(res.status === 413 || res.status === -1, `status ${res.status}`);
    const chunked = await send(base, 'POST', '/api/2.0/mlflow/runs/create', { authorization: alice, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, big).catch(
      (e: Error) => ({ status: -1, body: e.message }),
    );
    assert.ok(chunked.status === 413 || chunked.status === -1, `status ${chunked.status}`);
    nothingForwarded('huge body');
  });

  test('a huge list of ids is decided as a whole: one denied id refuses it', async () => {
    const ids = Array.from({ length: 2000 }, () => '1');
    ids.push('5');
    const res = await post(base, '/api/2.0/mlflow/runs/search', alice, { experiment_ids: ids });
    assert.equal(res.status, 403);
    nothingForwarded('long list');
  });
});
