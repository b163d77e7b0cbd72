/**
 * Tag-mode pieces that need no MLflow: which tag keys a request writes (on any route), the
 * stamp added to creates, and the constrained search parameters. The end-to-end proof is
 * test/feature/tag-tenancy.test.ts and test/e2e/authorization-tag.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Matched } from '../../src/pipeline/context.ts';
import { canonicalizeTarget as parseTarget } from '../../src/lib/target.ts';
import { GatehouseError } from '../../src/errors.ts';
import { constrainedSearchParams, isTenantKey, refuseTenantTagWrite, stampTenantTag, tagKeysWritten } from '../../src/tenancy/tag-rules.ts';

const TAG = { key: 'gatehouse.tenant' };

function ctx(method: string, target: string, json?: unknown, params: Record<string, string> = {}): Matched {
  return {
    req: { method, headers: {} } as IncomingMessage,
    target: parseTarget(target),
    route: { row: { op: 'x' }, template: '', params } as unknown as Matched['route'],
    ...(json !== undefined && { json, body: Buffer.from(JSON.stringify(json)) }),
    resources: [],
    stageMs: {},
  } as unknown as Matched;
}

const refusedTag = (c: Matched) =>
  assert.throws(() => refuseTenantTagWrite(c, TAG), (e: unknown) => e instanceof GatehouseError && e.code === 'GATEHOUSE_AUTHZ_TENANT_TAG');

describe('tag keys a request writes', () => {
  test('the tenant key is recognised whatever its case and surrounding blanks, and nothing else is', () => {
    for (const k of ['gatehouse.tenant', 'Gatehouse.Tenant', ' gatehouse.tenant\t', 'GATEHOUSE.TENANT']) assert.equal(isTenantKey(k, TAG.key), true, k);
    for (const k of ['gatehouse.tenants', 'gatehouse_tenant', 'tenant', '', 42, null, undefined]) assert.equal(isTenantKey(k, TAG.key), false, String(k));
  });

  test('set-tag and delete-tag bodies, tags lists and objects, path and query keys are all read', () => {
    refusedTag(ctx('POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: '1', key: 'gatehouse.tenant', value: 'b' }));
    refusedTag(ctx('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: 'r', tags: [{ key: 'x', value: '1' }, { key: 'Gatehouse.Tenant', value: 'b' }] }));
    refusedTag(ctx('PATCH', '/api/2.0/mlflow/logged-models/m/tags', { tags: { 'gatehouse.tenant': 'b' } }));
    refusedTag(ctx('DELETE', '/api/2.0/mlflow/logged-models/m/tags/gatehouse.tenant', undefined, { model_id: 'm', tag_key: 'gatehouse.tenant' }));
    refusedTag(ctx('DELETE', '/api/2.0/mlflow/registered-models/delete-tag?name=m&key=gatehouse.tenant'));
    // Start-trace carries its tags as a map, two levels down.
    refusedTag(ctx('POST', '/api/3.0/mlflow/traces', { trace: { trace_info: { trace_id: 't', tags: { 'gatehouse.tenant': 'team-b' } } } }));
    // Other keys pass.
    refuseTenantTagWrite(ctx('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: 'r', tags: [{ key: 'owner', value: 'b' }] }), TAG);
    assert.deepEqual(tagKeysWritten(ctx('POST', '/x', { key: 'a', tags: [{ key: 'b' }] }, { tag_key: 'c' })).sort(), ['a', 'b', 'c']);
  });

  test('huge tag lists and deep bodies are read without spreading them into a call or recursing on their depth', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    many.push({ key: 'gatehouse.tenant', value: 'b' });
    refusedTag(ctx('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: 'r', tags: many }));
    refusedTag(ctx('PATCH', '/api/2.0/mlflow/logged-models/m/tags', { tags: Object.fromEntries(many.map((t) => [t.key, t.value])) }));
    const deep = JSON.parse(`${'{"a":'.repeat(100_000)}{"tags":[{"key":"gatehouse.tenant"}]}${'}'.repeat(100_000)}`) as unknown;
    const c = ctx('POST', '/x', {});
    c.json = deep;
    refusedTag(c);
    const query = `/api/2.0/mlflow/registered-models/delete-tag?${Array.from({ length: 3000 }, (_, i) => `key=k${i}`).join('&')}&key=gatehouse.tenant`;
    assert.equal(tagKeysWritten(ctx('DELETE', query)).length, 3001);
  });
});

describe('stamping creates', () => {
  test('the tenant tag is appended and the forwarded body is exactly the new JSON', () => {
    const c = ctx('POST', '/api/2.0/mlflow/experiments/create', { name: 'e', tags: [{ key: 'team', value: 'x' }] });
    stampTenantTag(c, TAG, 'team-a');
    const sent = JSON.parse(c.body!.toString('utf8'));
    assert.deepEqual(sent, { name: 'e', tags: [{ key: 'team', value: 'x' }, { key: 'gatehouse.tenant', value: 'team-a' }] });
    assert.deepEqual(c.json, sent);
    const bare = ctx('POST', '/api/2.0/mlflow/registered-models/create', { name: 'm' });
    stampTenantTag(bare, TAG, 'team-b');
    assert.deepEqual(JSON.parse(bare.body!.toString('utf8')).tags, [{ key: 'gatehouse.tenant', value: 'team-b' }]);
  });

  test('an administrator\'s own choice of the tag is kept; tags that are not a list are refused', () => {
    const chosen = ctx('POST', '/api/2.0/mlflow/experiments/create', { name: 'e', tags: [{ key: 'gatehouse.tenant', value: 'team-b' }] });
    stampTenantTag(chosen, TAG, 'team-a');
    assert.deepEqual(JSON.parse(chosen.body!.toString('utf8')).tags, [{ key: 'gatehouse.tenant', value: 'team-b' }]);
    assert.throws(() => stampTenantTag(ctx('POST', '/x', { name: 'e', tags: 'x' }), TAG, 'team-a'), (e: unknown) => e instanceof GatehouseError && e.code === 'GATEHOUSE_AUTHZ_TENANT_TAG');
  });
});

describe('constrained searches', () => {
  test('GET and POST filters get the tenant clause; an absent filter becomes the clause alone', () => {
    assert.deepEqual(constrainedSearchParams(ctx('GET', "/api/2.0/mlflow/registered-models/search?filter=name+LIKE+'a%25'"), TAG, 'team-a'), {
      filter: "name LIKE 'a%' AND tags.`gatehouse.tenant` = 'team-a'",
    });
    assert.deepEqual(constrainedSearchParams(ctx('POST', '/api/2.0/mlflow/experiments/search', { max_results: 3 }), TAG, 'team-a'), { filter: "tags.`gatehouse.tenant` = 'team-a'" });
  });

  test('a filter that is not a string, or cannot be parsed safely, is refused', () => {
    for (const filter of [42, "name = 'x' OR name = 'y'", "name = 'x' -- "]) {
      assert.throws(
        () => constrainedSearchParams(ctx('POST', '/api/2.0/mlflow/experiments/search', { filter }), TAG, 'team-a'),
        (e: unknown) => e instanceof GatehouseError && e.code === 'GATEHOUSE_REQUEST_UNSAFE_FILTER',
        String(filter),
      );
    }
  });
});
