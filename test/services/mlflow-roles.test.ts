/**
 * The MLflow roles service (src/services/mlflow-roles.ts) against the in-process gateway's store:
 * its invariants with the other nouns — a tenant an MLflow role names is not deleted under it, a
 * deleted user's assignments go with it — and MLflow's integer ids under concurrent creation.
 * On both stores (MLflow's ids are `max + 1` in the change's transaction; PostgreSQL runs
 * transactions side by side). MLflow's own client drives the routes in test/compat/auth-roles.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliActor } from '../../src/services/context.ts';
import { startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';

let stub: StubUpstream;
let pg: PostgresServer;
let gh: InProcess;
const actor = cliActor();

before(async () => {
  [stub, pg] = await Promise.all([startStub(), startPostgres()]);
});
after(async () => {
  await stub.close();
  await pg.close();
});

for (const driver of ['sqlite', 'postgres'] as const) {
  describe(`on ${driver}`, () => {
    before(async () => {
      const store = driver === 'postgres' ? { store: { driver, url: pg.url(await pg.createDatabase('roles')) } } : {};
      gh = await startInProcess(stub.url, { tenancy: { mode: 'tag' }, tenants: [{ name: 'default' }], ...store });
    });
    after(async () => {
      await gh.close();
    });

    test('a tenant named by an MLflow role is not deleted under it; once the role is gone it is', async () => {
      await gh.services.tenants.create(actor, { name: 'team-a' });
      const role = await gh.services.mlflowRoles.create(actor, { workspace: 'team-a', name: 'readers', description: null });
      await assert.rejects(gh.services.tenants.delete(actor, 'team-a'), (e: { code?: string; message?: string }) => e.code === 'GATEHOUSE_ADMIN_CONFLICT' && /MLflow roles still name tenant team-a: readers/.test(e.message ?? ''));
      assert.equal((await gh.services.mlflowRoles.list(['team-a'])).length, 1, 'the role is still there');
      await gh.services.mlflowRoles.delete(actor, role.id);
      await gh.services.tenants.delete(actor, 'team-a');
    });

    test("a deleted user's role assignments go with it", async () => {
      await gh.services.users.create(actor, { username: 'gone', password: 'gone-password-0123', admin: false });
      const role = await gh.services.mlflowRoles.create(actor, { workspace: 'default', name: 'leavers', description: null });
      await gh.services.mlflowRoles.assign(actor, role.id, 'gone');
      assert.deepEqual(await gh.services.mlflowRoles.members(role.id), ['gone']);
      await gh.services.users.delete(actor, 'gone');
      assert.deepEqual(await gh.services.mlflowRoles.members(role.id), [], 'a new user of that name inherits nothing');
    });

    test('concurrent creations get distinct integer ids, as MLflow gives them', async () => {
      const made = await Promise.all(Array.from({ length: 8 }, (_, i) => gh.services.mlflowRoles.create(actor, { workspace: 'default', name: `parallel-${i}`, description: null })));
      const ids = made.map((r) => r.id);
      assert.ok(ids.every((id) => Number.isSafeInteger(id) && id > 0));
      assert.equal(new Set(ids).size, 8, JSON.stringify(ids));
      const perms = await Promise.all(ids.map((id, i) => gh.services.mlflowRoles.addPermission(actor, made[0]!.id, 'experiment', String(i + 1), 'READ')));
      assert.equal(new Set(perms.map((p) => p.id)).size, 8, 'distinct permission ids');
      // The same name at once: one role, the others MLflow's RESOURCE_ALREADY_EXISTS (never a 500).
      const same = await Promise.allSettled(Array.from({ length: 4 }, () => gh.services.mlflowRoles.create(actor, { workspace: 'default', name: 'same', description: null })));
      assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of same) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'GATEHOUSE_COMPAT_ALREADY_EXISTS');
    });
  });
}
