/**
 * What is forwarded is what was sent, byte for byte, apart from the intended change (issue 21):
 * tag mode stamps the tenant tag into create bodies, and re-serialising the body there turned
 * `9.0` into `9`, `1e3` into `1000`, `-0.0` into `0`, `\u00e9` into `é`, and dropped the client's
 * whitespace. The recording stand-in shows exactly the bytes MLflow would receive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';

const PASSWORD = 'a-long-test-password';
const TAG = 'gatehouse.tenant';

let stub: StubUpstream;
let gh: InProcess;

before(async () => {
  stub = await startStub();
  gh = await startInProcess(stub.url, {
    tenancy: { mode: 'tag' },
    tenants: [{ name: 'team-a', members: { users: ['alice'] } }],
    bindings: [{ role: 'contributor', user: 'alice', tenant: 'team-a' }],
    'rateLimits.enabled': false,
  });
  await createUsers(gh, ['alice'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await stub?.close();
});

/** The number forms, escapes, key orders and whitespace a client may send (all strict JSON the gateway accepts). */
const VARIANTS = [
  '{"name":"e-1","tags":[{"key":"k","value":"v"}],"x_float":9.0,"x_exp":1e3,"x_negzero":-0.0,"x_big":9007199254740991,"x_frac":0.1000}',
  '{ "tags" : [ { "value" : "v" , "key" : "k" } ] , "name" : "e-2" , "x" : [ 1.50 , 2E+2 , -0 ] }',
  '{\n\t"name": "\\u00e9-3 \\u2028 \\ud83d\\ude00 \\/ caf\u00e9",\n\t"tags": []\n}\n',
  '{"name":"e-4"}',
  '{"name":"e-5","tags":null,"x_float":1.0E-7}',
  '{}',
  '{"tags":[{"key":"k","value":"v"}  ,  {"key":"k2","value":"\\"q\\""}\r\n]  , "name":"e-6"}',
];

/** Sends `sent` as alice; the body MLflow would receive (its Content-Length checked). */
async function forwardedBody(path: string, sent: string): Promise<string> {
  stub.requests.length = 0;
  const res = await fetch(`${gh.url}${path}`, { method: 'POST', headers: { authorization: basic('alice', PASSWORD), 'content-type': 'application/json' }, body: sent });
  assert.equal(res.status, 200, await res.text());
  const arrived = stub.requests.find((r) => r.url === path);
  assert.ok(arrived, 'forwarded');
  assert.equal(Number(arrived.headers['content-length']), Buffer.byteLength(arrived.body));
  return arrived.body;
}

/** The stamped tag, as the gateway writes it. */
const STAMP = JSON.stringify({ key: TAG, value: 'team-a' });

/** `sent` with exactly one insertion: the common prefix and suffix cover every byte sent. */
function insertion(sent: string, forwarded: string): string {
  let p = 0;
  while (p < sent.length && sent[p] === forwarded[p]) p++;
  let s = 0;
  while (s < sent.length - p && sent[sent.length - 1 - s] === forwarded[forwarded.length - 1 - s]) s++;
  assert.ok(p + s >= sent.length, `more than one insertion:\n sent      ${sent}\n forwarded ${forwarded}`);
  return forwarded.slice(p, forwarded.length - s);
}

describe('tag mode stamps the tenant tag into the bytes the client sent', () => {
  for (const [i, sent] of VARIANTS.entries()) {
    test(`variant ${i}: ${sent.slice(0, 60).replace(/\s+/g, ' ')}`, async () => {
      const forwarded = await forwardedBody('/api/2.0/mlflow/experiments/create', sent);
      const sentJson = JSON.parse(sent) as { tags?: unknown[] | null };
      // The one change: the stamp appended to the tags list, a tags member added, or a null tags replaced.
      const tags = sentJson.tags ?? [];
      if (sentJson.tags === null) assert.equal(forwarded, sent.replace('null', `[${STAMP}]`));
      else if ('tags' in sentJson) assert.equal(insertion(sent, forwarded), `${tags.length > 0 ? ',' : ''}${STAMP}`);
      else assert.equal(insertion(sent, forwarded), `${Object.keys(sentJson).length > 0 ? ',' : ''}"tags": [${STAMP}]`);
      assert.deepEqual(JSON.parse(forwarded), { ...sentJson, tags: [...tags, { key: TAG, value: 'team-a' }] });
    });
  }
});

describe('tag mode constrains a search in the bytes the client sent', () => {
  test('only filter and max_results change; order_by, escapes, number forms and whitespace reach MLflow as sent', async () => {
    const sent = '{ "order_by" : [ "name ASC" , "last_update_time DESC" ] ,\n "view_type":"ACTIVE_ONLY", "x_float": 9.0, "x_exp": 1e3,\n "filter" : "name LIKE \'\\u0065%\'" , "max_results" : 5 }';
    const forwarded = await forwardedBody('/api/2.0/mlflow/experiments/search', sent);
    const json = JSON.parse(forwarded) as { filter: string; max_results: number };
    assert.ok(json.filter.includes(TAG) && json.filter.includes("'team-a'"), json.filter);
    // Every byte outside the two values the gateway sets is the client's.
    const filterText = JSON.stringify(json.filter);
    const expected = sent.replace('"name LIKE \'\\u0065%\'"', filterText).replace('"max_results" : 5', `"max_results" : ${json.max_results}`);
    assert.equal(forwarded, expected);
  });
});
