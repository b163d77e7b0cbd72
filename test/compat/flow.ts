/**
 * Runs an AuthServiceClient flow (a Python script built on flow_steps.py) against the gateway and
 * reads its steps; `ok` / `fails` check one step each.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER } from '../harness/gatehouse.ts';
import { ROOT } from '../harness/paths.ts';
import { runPython } from '../harness/python-client.ts';

export type Step = { ok: boolean; value?: unknown; code?: string; message?: string };

export async function runFlow(script: string, gatewayUrl: string): Promise<Record<string, Step>> {
  const py = await runPython(join(ROOT, 'test/compat', script), {
    MLFLOW_TRACKING_URI: gatewayUrl,
    GH_ADMIN_USER: ADMIN_USER,
    GH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
  });
  assert.equal(py.code, 0, py.stderr.slice(-4000));
  return JSON.parse(py.stdout.trim().split('\n').at(-1)!) as Record<string, Step>;
}

/** Checks over the steps `steps()` returns (read when a check runs, after the flow ran). */
export function stepChecks(steps: () => Record<string, Step>) {
  return {
    ok(name: string, value?: unknown) {
      const r = steps()[name];
      assert.equal(r?.ok, true, `${name}: ${JSON.stringify(r)}`);
      if (value !== undefined) assert.deepEqual(r!.value, value, name);
    },
    fails(name: string, code: string, message?: RegExp) {
      const r = steps()[name];
      assert.equal(r?.code, code, `${name}: ${JSON.stringify(r)}`);
      if (message) assert.match(r!.message ?? '', message, name);
    },
  };
}
