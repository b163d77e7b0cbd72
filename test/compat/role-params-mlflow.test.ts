/**
 * Differential test: the role routes read `role_id` / `role_permission_id` and a role permission's
 * (resource_type, resource_pattern, permission) the way the installed MLflow 3.18 does, or refuse.
 * Whatever Gatehouse accepts, MLflow accepts with the same integer and stores with the same
 * canonical pattern (role_params_oracle.py runs MLflow's own functions); Gatehouse may refuse
 * more (Python's int() also reads " 5", "+5", "1_0", 5.0 and true), never less.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intParam } from '../../src/compat/call.ts';
import { roleBindingFor } from '../../src/compat/mlflow-permissions.ts';
import { runPython } from '../harness/python-client.ts';

const ORACLE = join(import.meta.dirname, 'role_params_oracle.py');

const INTS: unknown[] = [0, 1, 42, '7', '007', ' 5', '5 ', '+5', '-1', -1, '1_000', '٣', '5.0', 5.0, 5.5, true, false, null, '', 'abc', '0x10', '1e3', 1e3, [], {}, '999999999999999', '9999999999999999999'];

const TYPES = ['experiment', 'registered_model', 'prompt', 'workspace', 'run', 'trace', 'scorer', 'gateway_endpoint', 'mcp_server', 'skill', 'registered_model_version', 'notebook', ''];
const PATTERNS = ['*', '1', '01', ' 1', '+1', '-1', '1_0', 'abc', 'my-model', 'model*', 'a b', '@org/skill', 'exp/1', ''];
const PERMISSIONS = ['READ', 'USE', 'EDIT', 'MANAGE', 'DENY', 'NO_PERMISSIONS', 'read', ''];

type Outcome = { ok: true; value?: number; pattern?: string } | { ok: false; error: string };

function ours(type: string, pattern: string, permission: string): { accepted: boolean; pattern?: string } {
  try {
    return { accepted: true, pattern: roleBindingFor('g', 't', type, pattern, permission).pattern };
  } catch (e) {
    // Refused: as MLflow would (UnmappableGrant), or because Gatehouse cannot state it (InexpressibleGrant).
    if (e instanceof Error) return { accepted: false };
    throw e;
  }
}

test('role ids and role permissions: what Gatehouse accepts, MLflow reads the same way', async () => {
  const permissions = TYPES.flatMap((t) => PATTERNS.flatMap((p) => PERMISSIONS.map((perm) => [t, p, perm] as const)));
  const dir = mkdtempSync(join(tmpdir(), 'gh-role-oracle-'));
  try {
    const file = join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify({ ints: INTS, permissions }));
    const run = await runPython(ORACLE, { CASES_FILE: file }, 120_000);
    assert.equal(run.code, 0, `oracle failed: ${run.stderr.slice(-3000)}`);
    const mlflow = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ints: Outcome[]; permissions: Outcome[] };

    let intsAccepted = 0;
    INTS.forEach((raw, i) => {
      let value: number | undefined;
      try {
        value = intParam('role_id', raw);
      } catch {
        return;
      }
      intsAccepted++;
      assert.deepEqual(mlflow.ints[i], { ok: true, value }, `role_id ${JSON.stringify(raw)}`);
    });
    assert.ok(intsAccepted >= 5, 'the ordinary ids are read');

    let accepted = 0;
    let mlflowRefusals = 0;
    permissions.forEach(([type, pattern, permission], i) => {
      const theirs = mlflow.permissions[i]!;
      const mine = ours(type, pattern, permission);
      const what = `(${type}, ${JSON.stringify(pattern)}, ${permission})`;
      if (mine.accepted) {
        accepted++;
        assert.ok(theirs.ok, `${what}: Gatehouse accepts what MLflow refuses: ${JSON.stringify(theirs)}`);
        assert.equal(mine.pattern, theirs.pattern, `${what}: the canonical pattern`);
      }
      if (!theirs.ok) {
        mlflowRefusals++;
        assert.equal(mine.accepted, false, `${what}: MLflow refuses it`);
      }
    });
    assert.ok(accepted > 50 && mlflowRefusals > 50, `both sides are exercised (${accepted} accepted, ${mlflowRefusals} refused by MLflow)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
