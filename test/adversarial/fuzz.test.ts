/**
 * Property tests (fast-check) of the parsers and the decision: no crash (only the gateway's own
 * refusals are thrown), what is accepted reads the way MLflow would read it, and the engine
 * never allows what a small, independent reference decision denies.
 * Runs are seeded and bounded so the suite stays fast and reproducible.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalizeTarget, parseQuery } from '../../src/lib/target.ts';
import { parseStrictJson, StrictJsonError } from '../../src/lib/strict-json.ts';
import { GatehouseError } from '../../src/errors.ts';
import { inspectGraphql } from '../../src/routes/mlflow/graphql.ts';
import { decide } from '../../src/policy/engine.ts';
import { buildSnapshot } from '../../src/policy/snapshot.ts';
import type { BindingConfig } from '../../src/policy/config.ts';
import type { AccessRequest } from '../../src/model/access.ts';
import type { Principal } from '../../src/model/principal.ts';

const RUNS = { numRuns: 1500, seed: 20261122 };

/** Target-ish strings: the characters that matter to path parsing, and some that must never pass. */
const targetChar = fc.constantFrom('/', '/', 'a', 'p', 'i', '2', '.', '%', '2', 'f', 'F', 'e', 'E', '5', 'c', 'C', '0', '?', '&', '=', '#', '\\', ';', '+', ' ', '\u00e9', '\u0000', 'u');
const target = fc.array(targetChar, { maxLength: 40 }).map((cs) => `/${cs.join('')}`);

/** werkzeug's path reading, independently: one percent-decoding of the bytes, as UTF-8. */
function referenceDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

describe('path canonicalization', () => {
  test('never crashes; anything accepted is unambiguous and decoded exactly once', () => {
    fc.assert(
      fc.property(target, (url) => {
        let t;
        try {
          t = canonicalizeTarget(url);
        } catch (e) {
          assert.ok(e instanceof GatehouseError, `${JSON.stringify(url)} threw ${String(e)}`);
          return;
        }
        const { path, rawPath } = t;
        assert.equal(path, referenceDecode(rawPath), 'one decoding, like werkzeug');
        assert.equal(path.split('/').length, rawPath.split('/').length, 'no separator appeared by decoding');
        for (const [i, s] of path.split('/').entries()) {
          assert.ok(s !== '.' && s !== '..', `dot segment in ${path}`);
          if (i > 0 && i < path.split('/').length - 1) assert.notEqual(s, '', `empty segment in ${path}`);
        }
        assert.ok(!/[\\\u0000-\u001f#]/.test(path), `ambiguous character in ${JSON.stringify(path)}`);
        assert.ok(!decodeURIComponentSafe(path).includes('/..'), 'no dot segment after a second decoding either');
      }),
      RUNS,
    );
  });

  test('query parsing: never crashes; repeats are kept in order', () => {
    const part = fc.tuple(fc.constantFrom('a', 'b', 'run_id', 'runId', '%61', 'a%5F'), fc.string({ maxLength: 6 })).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), fc.string({ maxLength: 10 }), (parts, junk) => {
        const raw = parts.join('&');
        const q = parseQuery(raw);
        const ref = new Map<string, string[]>();
        for (const [k, v] of new URLSearchParams(raw)) ref.set(k, [...(ref.get(k) ?? []), v]);
        assert.deepEqual(q, ref);
        try {
          parseQuery(junk);
        } catch (e) {
          assert.ok(e instanceof GatehouseError);
        }
      }),
      RUNS,
    );
  });
});

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

describe('strict JSON', () => {
  test('plain JSON values round-trip; a duplicate key anywhere is refused', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
        const text = JSON.stringify(v);
        let parsed: unknown;
        try {
          parsed = parseStrictJson(Buffer.from(text));
        } catch (e) {
          // Only integers beyond 2^53 may be refused from JSON.stringify output.
          assert.ok(e instanceof StrictJsonError && /2\^53/.test(e.message), `${text}: ${String(e)}`);
          return;
        }
        assert.deepEqual(parsed, JSON.parse(text));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 }), fc.nat(), (obj, pick) => {
        const keys = Object.keys(obj);
        const dup = keys[pick % keys.length]!;
        const text = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(obj[k])}`).join(',')},${JSON.stringify(dup)}:1}`;
        assert.throws(() => parseStrictJson(Buffer.from(text)), StrictJsonError);
      }),
      RUNS,
    );
  });

  test('arbitrary bytes: a value or a refusal, never a crash; never a value JSON.parse would not give', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.array(fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', '-', 'e', 'N', 'a', 'true', 'null', ' ', '\\', 'u', '0'), { maxLength: 30 }).map((cs) => Buffer.from(cs.join(''))),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        let v: unknown;
        try {
          v = parseStrictJson(b);
        } catch (e) {
          assert.ok(e instanceof StrictJsonError || e instanceof SyntaxError || e instanceof TypeError, String(e));
          return;
        }
        assert.deepEqual(v, JSON.parse(b.toString('utf8')));
      }),
      { numRuns: 4000, seed: RUNS.seed },
    );
  });
});

describe('GraphQL inspection', () => {
  const token = fc.constantFrom('{', '}', '(', ')', ':', '$', '!', '...', 'on', 'Query', 'query', 'mutation', 'fragment', 'F', 'x', 'mlflowGetRun', 'input', 'runId', '"r1"', 'run', 'info', '@skip', '(if: true)', '__schema', 'types', 'name', ' ', '\n', '#');
  test('random documents: a decision input or a refusal, never a crash', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), fc.option(fc.string({ maxLength: 5 })), (toks, op) => {
        try {
          const r = inspectGraphql({ query: toks.join(' '), ...(op !== null && { operationName: op }) }, { maxDepth: 12, maxFields: 200 });
          // Whatever is accepted maps to REST twins with string ids: something the engine can decide.
          for (const use of r.uses) assert.ok(use.op.includes('.') && (use.resource === undefined || use.resource.ids.every((i) => typeof i === 'string')), JSON.stringify(use));
        } catch (e) {
          assert.ok(e instanceof GatehouseError, String(e));
        }
      }),
      RUNS,
    );
  });

  test('a run named anywhere in an accepted document is in its uses (aliases, fragments, @skip)', () => {
    const wrap = fc.constantFrom(
      (f: string) => `{ ${f} }`,
      (f: string) => `{ a: ${f} }`,
      (f: string) => `query { ...F } fragment F on Query { ${f} }`,
      (f: string) => `{ ... on Query { ${f} } }`,
      (f: string) => `query A { __typename } query B { ${f} }`,
    );
    fc.assert(
      fc.property(wrap, fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.boolean(), (w, id, skip) => {
        const field = `mlflowGetRun(input: {runId: "${id}"})${skip ? ' @skip(if: true)' : ''} { run { info { runId } } }`;
        const r = inspectGraphql({ query: w(field), operationName: w(field).includes('query A') ? 'A' : undefined }, { maxDepth: 12, maxFields: 200 });
        assert.ok(r.uses.some((u) => u.resource?.ids.includes(id)), `${w(field)}: ${JSON.stringify(r.uses)}`);
      }),
      { numRuns: 300, seed: RUNS.seed },
    );
  });
});

describe('the decision against a reference', () => {
  const TENANTS = ['team-a', 'team-b'] as const;
  const ROLES = ['viewer', 'contributor'] as const;
  const LEVEL = { viewer: 1, contributor: 3 } as const;
  const NEED = { read: 1, edit: 3 } as const;
  const IDS = ['1', '2', '5'] as const;
  interface Grant {
    role: (typeof ROLES)[number];
    tenant: (typeof TENANTS)[number];
    effect: 'allow' | 'deny';
    id?: (typeof IDS)[number];
  }
  const grant = fc.record({ role: fc.constantFrom(...ROLES), tenant: fc.constantFrom(...TENANTS), effect: fc.constantFrom('allow', 'deny'), id: fc.option(fc.constantFrom(...IDS), { nil: undefined }) }) as fc.Arbitrary<Grant>;
  const request = fc.record({
    tenant: fc.constantFrom(...TENANTS),
    need: fc.constantFrom('read', 'edit') as fc.Arbitrary<'read' | 'edit'>,
    ids: fc.option(fc.uniqueArray(fc.constantFrom(...IDS), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  });

  /** The reference: member of the tenant; no deny touching any named experiment (or, unnamed, any); an allow covering all of them. */
  function reference(grants: Grant[], r: { tenant: string; need: 'read' | 'edit'; ids: string[] | undefined }): boolean {
    const here = grants.filter((g) => g.tenant === r.tenant);
    if (!here.some((g) => g.effect === 'allow')) return false;
    const denied = here.some((g) => g.effect === 'deny' && (g.id === undefined || r.ids === undefined || r.ids.includes(g.id)));
    if (denied) return false;
    const covers = (g: Grant) => g.effect === 'allow' && LEVEL[g.role] >= NEED[r.need] && (g.id === undefined || (r.ids !== undefined && r.ids.every((i) => i === g.id)));
    return here.some(covers);
  }

  test('no allow that the reference denies', () => {
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 4 }), request, (grants, r) => {
        const bindings: BindingConfig[] = grants.map((g) => ({ role: g.role, effect: g.effect, user: 'u', tenant: g.tenant, ...(g.id !== undefined && { experiment: { id: g.id } }) }));
        const snapshot = buildSnapshot({ tenants: TENANTS.map((name) => ({ name, members: { users: [], groups: [] } })), groups: [], roles: [], bindings });
        const principal: Principal = { id: 'local:u', kind: 'user', name: 'u', localName: 'u', groups: [], tenants: [], roles: [], admin: false, method: 'basic', provider: 'local' };
        const req: AccessRequest = {
          op: r.need === 'read' ? 'runs.get' : 'runs.setTag',
          action: r.need,
          search: false,
          tenant: r.tenant,
          checks: [{ family: 'experiment', need: r.need, anchors: r.ids && { experimentIds: r.ids, experimentNames: r.ids.map((i) => `exp-${i}`) } }],
        };
        const engine = decide(snapshot, principal, req).effect === 'allow';
        if (engine) assert.ok(reference(grants, r), `engine allowed, reference denies: ${JSON.stringify({ grants, r })}`);
      }),
      { numRuns: 5000, seed: RUNS.seed },
    );
  });
});
