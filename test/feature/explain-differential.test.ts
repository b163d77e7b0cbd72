/**
 * `policy explain` against the gateway: for every route of the table, every built-in role, a
 * resource-scoped, a name-pattern and a deny binding, in each tenancy mode (workspace, tag,
 * instance), explain's verdict (allow / allow-filtered / deny, with its reason ids) is what the
 * gateway decides for the same call, and what the gateway does follows it: an allowed call
 * reaches the recording stub upstream, a denied one does not. Both build the engine's input with
 * the one builder (src/policy/access-request.ts); this holds them to it.
 *
 * Each call names team-a's resources (experiment 101 `ella-exp`, its run, logged model and trace,
 * registered model `model-a`) in every place the route's handler reads an identifier; the stub
 * answers the gateway's own lookups with them, carrying team-a's tenant tag.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { everyMessage, isForwarded, requestNaming, sendBuilt, type ResourceIds } from '../harness/tenant-resources.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { concretePaths } from '../../src/routes/mlflow/expand.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';
import { BUILTIN_ROLES } from '../../src/policy/roles.ts';
import { explain } from '../../src/policy/explain.ts';
import { tenancyMode } from '../../src/tenancy/index.ts';
import type { Decision } from '../../src/model/decision.ts';

const PASSWORD = 'differential-password-1';
const TEAM_A: ResourceIds = { experiment: '101', experimentName: 'ella-exp', run: 'a1'.repeat(16), loggedModel: `m-${'a1'.repeat(16)}`, trace: `tr-${'a1'.repeat(16)}`, model: 'model-a' };

/** Who calls: each built-in role tenant-wide, and one principal per binding kind. */
const PRINCIPALS: { readonly user: string; readonly bindings: readonly Record<string, unknown>[] }[] = [
  ...BUILTIN_ROLES.map((r) => ({ user: `as-${r.name}`, bindings: [{ role: r.name, ...(r.name !== 'admin' && { tenant: 'team-a' }) }] })),
  { user: 'scoped', bindings: [{ role: 'viewer', tenant: 'team-a', experiment: { id: TEAM_A.experiment } }, { role: 'contributor', tenant: 'team-a', model: { namePattern: TEAM_A.model } }] },
  { user: 'ella', bindings: [{ role: 'viewer', tenant: 'team-a', experiment: { namePattern: 'ella-*' } }] },
  { user: 'denied', bindings: [{ role: 'contributor', tenant: 'team-a' }, { role: 'viewer', effect: 'deny', tenant: 'team-a', experiment: { id: TEAM_A.experiment } }] },
];

const MODES = ['workspace', 'tag', 'instance'] as const;
type Mode = (typeof MODES)[number];

/**
 * One concrete path per row (a workspace route asks about team-a); calls that create come last,
 * so what a principal creates cannot change its other calls. Not `POST /graphql`: explain takes
 * an operation, and a GraphQL document is decided as the REST operations it reads through.
 */
const CASES = MLFLOW_ROUTES.filter((row) => row.op !== 'graphql.query')
  .map((row) => ({ row, template: concretePaths(row)[0]!.replace('{workspace_name}', 'team-a') })).sort((a, b) => Number(a.row.action === 'create') - Number(b.row.action === 'create'));

const verdict = (d: Pick<Decision, 'effect' | 'filter' | 'reasons'>) => `${d.effect === 'allow' && d.filter ? 'allow-filtered' : d.effect} [${[...d.reasons].sort().join(',')}]`;

for (const mode of MODES) {
  describe(`explain = gateway, ${mode} mode`, () => {
    let stub: StubUpstream;
    let gh: InProcess;
    before(async () => {
      const body = everyMessage(TEAM_A, [{ key: 'gatehouse.tenant', value: 'team-a' }]);
      stub = await startStub((req, res) => {
        if (req.url === '/api/3.0/mlflow/server-info') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ workspaces_enabled: mode === 'workspace' }));
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      gh = await startInProcess(stub.url, {
        tenancy: { mode },
        tenants: [
          { name: 'team-a', members: { users: [] }, ...(mode === 'instance' && { mlflowUrl: stub.url }) },
          { name: 'team-b', members: { users: [] }, ...(mode === 'instance' && { mlflowUrl: stub.url }) },
        ],
        bindings: PRINCIPALS.flatMap((p) => p.bindings.map((b) => ({ ...b, user: p.user }))),
        'rateLimits.enabled': false,
      });
      await createUsers(gh, PRINCIPALS.map((p) => p.user), PASSWORD);
    });
    after(async () => {
      await gh?.close();
      await stub?.close();
    });

    test('every route × principal: the same verdict and reasons, and allowed exactly when forwarded', async () => {
      const problems: string[] = [];
      const seen = new Map<string, string>();
      let compared = 0;
      for (const { user } of PRINCIPALS) {
        const auth = { authorization: basic(user, PASSWORD), 'x-mlflow-workspace': 'team-a' };
        for (const { row, template } of CASES) {
          const b = requestNaming(row, template, TEAM_A);
          const before = gh.events.length;
          const r = await sendBuilt(gh.url, stub, row.method, b, auth);
          const forwarded = r.upstream.some(isForwarded);
          const decision = gh.events.slice(before).find((e) => e.ctx.route?.row === row)?.ctx.decision;
          const where = `${user} ${row.method} ${b.path} (${row.op})`;
          // Refused before any decision (a body this generic request gets wrong): nothing to compare.
          if (decision === undefined) {
            if (forwarded) problems.push(`${where}: forwarded without a decision`);
            continue;
          }
          compared++;
          seen.set(`${user} ${row.op}`, verdict(decision).split(' ')[0]!);
          const explained = explain(gh.policy.snapshot(), {
            principal: user,
            admin: false,
            op: row.op,
            tenant: 'team-a',
            experimentId: TEAM_A.experiment,
            experimentName: TEAM_A.experimentName,
            model: TEAM_A.model,
          }, tenancyMode({ mode, tagKey: 'gatehouse.tenant' }))!;
          if (verdict(explained) !== verdict(decision)) problems.push(`${where}: explain ${verdict(explained)}, gateway ${verdict(decision)}`);
          if (decision.effect !== 'allow' && forwarded) problems.push(`${where}: denied but forwarded`);
        }
      }
      assert.deepEqual(problems, [], `${mode}:\n${problems.join('\n')}`);
      assert.ok(compared >= PRINCIPALS.length * 200, `only ${compared} calls reached a decision`);
      // The sweep reaches all three verdicts, and the case that drove it: a viewer of experiments
      // named `ella-*` searching experiments is answered with what it may read.
      assert.deepEqual(new Set(seen.values()), new Set(['allow', 'allow-filtered', 'deny']));
      assert.equal(seen.get('ella experiments.search'), 'allow-filtered');
    });
  });
}
