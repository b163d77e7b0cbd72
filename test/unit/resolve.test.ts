/**
 * The resource resolver's caches, against a scripted MLflow stand-in and an injected clock: a
 * missing id is remembered like a found one (same TTL, same bound), so a foreign id and a missing
 * one are both answered from the cache; what the gateway sees created is never hidden by a stale
 * "missing", and what it does not see is found when the entry expires. The end-to-end timing
 * proof against a real MLflow: test/e2e/existence-timing.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver, type Resolver, type ResolverOptions } from '../../src/policy/resolve.ts';
import { GatehouseError } from '../../src/errors.ts';
import type { Upstreams } from '../../src/upstream/upstreams.ts';
import type { ResourceRef } from '../../src/routes/mlflow/types.ts';
import type { ResourceId } from '../../src/model/resource.ts';

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** MLflow as a function of the path; every call recorded; `hold` makes calls wait until released. */
function fakeMlflow(answer: (path: string) => Answer) {
  const calls: string[] = [];
  let held: (() => void)[] | undefined;
  const upstreams = {
    workspaceHeader: async (tenant: string | undefined) => tenant,
    forTenant: () => ({
      async get(path: string) {
        calls.push(path);
        if (held) await new Promise<void>((r) => held!.push(r));
        const a = answer(path);
        return { status: a.status, body: JSON.stringify(a.body) };
      },
    }),
  } as unknown as Upstreams;
  return {
    upstreams,
    calls,
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const r of waiting) r();
    },
  };
}

const RUN: ResourceRef = { kind: 'run', ids: [{ in: 'params', field: 'run_id' }] };
const EXPERIMENT: ResourceRef = { kind: 'experiment', ids: [{ in: 'params', field: 'experiment_id' }] };
const BY_NAME: ResourceRef = { kind: 'experiment', ids: [{ in: 'params', field: 'experiment_name' }] };
const id = (kind: ResourceId['kind'], value: string): ResourceId[] => [{ kind, ref: 0, id: value, key: { id: value }, from: 'test' }];

const notFound = (e: unknown) => e instanceof GatehouseError && e.code === 'GATEHOUSE_RESOURCE_NOT_FOUND';
const settle = () => new Promise((r) => setImmediate(r));

/** Experiments 1 (exp-one, tagged team-a) and 2 (team-b); run r1 in 1; `existing` can grow. */
function world(options: Partial<ResolverOptions> = {}) {
  const experiments = new Map([
    ['1', { name: 'exp-one', tenant: 'team-a' }],
    ['2', { name: 'exp-two', tenant: 'team-b' }],
  ]);
  const runs = new Map([['r1', '1']]);
  const mlflow = fakeMlflow((path) => {
    const u = new URL(path, 'http://x');
    const experiment = (eid: string | null) => {
      const e = eid === null ? undefined : experiments.get(eid);
      return e ? { status: 200, body: { experiment: { experiment_id: eid, name: e.name, tags: [{ key: 'gatehouse.tenant', value: e.tenant }] } } } : { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } };
    };
    if (u.pathname.endsWith('/runs/get')) {
      const exp = runs.get(u.searchParams.get('run_id') ?? '');
      return exp ? { status: 200, body: { run: { info: { experiment_id: exp } } } } : { status: 404, body: {} };
    }
    if (u.pathname.endsWith('/experiments/get')) return experiment(u.searchParams.get('experiment_id'));
    if (u.pathname.endsWith('/experiments/get-by-name')) return experiment([...experiments].find(([, e]) => e.name === u.searchParams.get('experiment_name'))?.[0] ?? null);
    if (u.pathname.includes('/traces/')) return { status: 503, body: {} };
    return { status: 404, body: {} };
  });
  let clock = 1_000_000;
  const resolver: Resolver = createResolver(mlflow.upstreams, { ttlMs: 30_000, maxEntries: 1000, now: () => clock, ...options });
  return { experiments, runs, mlflow, resolver, advance: (ms: number) => void (clock += ms) };
}

describe('resolver: a missing id is remembered like a found one', () => {
  test('the second lookup of a missing run is answered from the cache, without waiting for MLflow', async () => {
    const w = world({ tagKey: 'gatehouse.tenant' });
    await assert.rejects(w.resolver.anchors(RUN, id('run', 'nope'), 'team-a'), notFound);
    assert.equal(w.mlflow.calls.length, 1);
    // MLflow now hangs: an answer that needed it would never come.
    w.mlflow.hold();
    await assert.rejects(w.resolver.anchors(RUN, id('run', 'nope'), 'team-a'), notFound);
    // A found run (of another tenant) is answered the same way: from the cache.
    w.mlflow.release();
    await w.resolver.anchors(RUN, id('run', 'r1'), 'team-b');
    w.mlflow.hold();
    assert.deepEqual(await w.resolver.anchors(RUN, id('run', 'r1'), 'team-b'), { experimentIds: ['1'], experimentNames: ['exp-one'], tenants: ['team-a'] });
    w.mlflow.release();
  });

  test('missing experiment ids too; both kinds of entry expire after the same TTL', async () => {
    const w = world();
    await assert.rejects(w.resolver.anchors(EXPERIMENT, id('experiment', '42'), 'team-a'), notFound);
    await w.resolver.anchors(EXPERIMENT, id('experiment', '1'), 'team-a');
    w.advance(29_999);
    w.mlflow.hold();
    // Within the TTL both are answered with MLflow hanging.
    await assert.rejects(w.resolver.anchors(EXPERIMENT, id('experiment', '42'), 'team-a'), notFound);
    await w.resolver.anchors(EXPERIMENT, id('experiment', '1'), 'team-a');
    w.mlflow.release();
    await settle();
    w.advance(2);
    const expired = w.mlflow.calls.length;
    w.mlflow.hold();
    const pending = [w.resolver.anchors(EXPERIMENT, id('experiment', '42'), 'team-a').catch((e: unknown) => e), w.resolver.anchors(EXPERIMENT, id('experiment', '1'), 'team-a')];
    await settle();
    assert.equal(w.mlflow.calls.length - expired, 2, 'both wait for MLflow again after the TTL');
    w.mlflow.release();
    await Promise.all(pending);
  });

  test('a failed lookup (MLflow 5xx) is never remembered', async () => {
    const w = world();
    const TRACE: ResourceRef = { kind: 'trace', ids: [{ in: 'path', field: 'trace_id' }] };
    for (let i = 0; i < 2; i++) await assert.rejects(w.resolver.anchors(TRACE, id('trace', 'tr-1'), 'team-a'), (e: unknown) => e instanceof GatehouseError && e.code === 'GATEHOUSE_RESOURCE_UNRESOLVABLE');
    assert.equal(w.mlflow.calls.length, 2);
  });

  test('missing and found entries share one bound', async () => {
    const w = world({ maxEntries: 3 });
    for (const r of ['a', 'b', 'c', 'd']) await assert.rejects(w.resolver.anchors(RUN, id('run', r), 'team-a'), notFound);
    await settle();
    w.mlflow.hold();
    // b, c and d are remembered: answered with MLflow hanging.
    for (const r of ['b', 'c', 'd']) await assert.rejects(w.resolver.anchors(RUN, id('run', r), 'team-a'), notFound);
    // a was evicted (oldest first): asking again waits for MLflow.
    let answered = false;
    const a = w.resolver.anchors(RUN, id('run', 'a'), 'team-a').catch(() => (answered = true));
    await settle();
    assert.equal(answered, false);
    w.mlflow.release();
    await a;
  });

  test('an id longer than any MLflow issues is "does not exist" without asking MLflow', async () => {
    const w = world();
    await assert.rejects(w.resolver.anchors(RUN, id('run', 'r'.repeat(3_000_000)), 'team-a'), notFound);
    await assert.rejects(w.resolver.anchors(BY_NAME, id('experiment', 'n'.repeat(2000)), 'team-a'), notFound);
    assert.deepEqual(w.mlflow.calls, []);
  });
});

describe('resolver: a remembered "missing" never hides what was created', () => {
  test('created() drops the missing entry for that id in every tenant: the next lookup asks MLflow', async () => {
    const w = world({ tagKey: 'gatehouse.tenant' });
    for (const t of ['team-a', 'team-b', undefined]) await assert.rejects(w.resolver.anchors(EXPERIMENT, id('experiment', '3'), t), notFound);
    await settle();
    w.experiments.set('3', { name: 'exp-three', tenant: 'team-a' });
    w.resolver.created('experiment', '3');
    w.mlflow.hold();
    const answers = ['team-a', 'team-b', undefined].map((t) => w.resolver.anchors(EXPERIMENT, id('experiment', '3'), t));
    await settle();
    w.mlflow.release();
    for (const a of await Promise.all(answers)) assert.deepEqual(a, { experimentIds: ['3'], experimentNames: ['exp-three'], tenants: ['team-a'] });
  });

  test('created where the gateway did not see it (another replica, an OTLP trace): found once the entry expires, at most the TTL later', async () => {
    const w = world();
    await assert.rejects(w.resolver.anchors(RUN, id('run', 'r9'), 'team-a'), notFound);
    w.runs.set('r9', '1');
    w.advance(29_999);
    await assert.rejects(w.resolver.anchors(RUN, id('run', 'r9'), 'team-a'), notFound);
    w.advance(2);
    assert.deepEqual(await w.resolver.anchors(RUN, id('run', 'r9'), 'team-a'), { experimentIds: ['1'], experimentNames: ['exp-one'] });
  });

  test('answering from a remembered "missing" costs MLflow nothing: no work behind the answer that a found id would not cause', async () => {
    const w = world();
    await assert.rejects(w.resolver.anchors(RUN, id('run', 'x'), 'team-a'), notFound);
    for (let i = 0; i < 20; i++) await assert.rejects(w.resolver.anchors(RUN, id('run', 'x'), 'team-a'), notFound);
    await settle();
    assert.equal(w.mlflow.calls.length, 1);
  });

  test('names are not remembered as missing: a client asks for a name precisely to create it when absent (set_experiment)', async () => {
    const w = world();
    await assert.rejects(w.resolver.anchors(BY_NAME, id('experiment', 'fresh'), 'team-a'), notFound);
    w.experiments.set('7', { name: 'fresh', tenant: 'team-a' });
    assert.deepEqual((await w.resolver.anchors(BY_NAME, id('experiment', 'fresh'), 'team-a'))?.experimentIds, ['7']);
  });
});
