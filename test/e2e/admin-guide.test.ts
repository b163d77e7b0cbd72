/**
 * The operator guide is a test (issue 20): every `bash` block of docs/admin.md, the README's
 * block that points the MLflow client at the quickstart, and docs/identity.md's CLI token
 * examples (`gatehouse` is bin/gatehouse, as `npx gatehouse` runs it), run in order and as written against a
 * freshly started ./scripts/quickstart. The conventions are the guide's own (its opening
 * paragraphs): `<placeholders>` are values an earlier step printed, substituted here from that
 * output; `localhost:8080` becomes the free port the quickstart was given; a block opening with
 * `# your deployment` names the tests that run its commands instead. It ends as the guide does:
 * the stock MLflow client, holding the service account's token, creates a run in the team's tenant.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from '../harness/paths.ts';
import { freePort } from '../harness/ports.ts';
import { startQuickstart, type Quickstart } from '../harness/quickstart.ts';

const scratch = mkdtempSync(join(tmpdir(), 'gh-guide-'));
const data = join(scratch, 'quickstart');
const envFile = join(scratch, 'env.sh');
let quickstart: Quickstart | undefined;
after(async () => {
  await quickstart?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The `bash` blocks of a Markdown file, in order. */
function bashBlocks(file: string): string[] {
  return [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** What an earlier step printed that a later one names: placeholder ← the first capture group. */
const CAPTURES: [string, RegExp][] = [
  ['admin-password', /Generated password \(shown once, store it now\): (\S+)/],
  ['alice-password', /^alice: generated password \(shown once\): (\S+)$/m],
  ['trainer-token-id', /^token ([0-9a-f]{12}) for service account trainer/m],
  ['trainer-token', /^(gth_sat_[0-9a-f]{12}_\S+)$/m],
  ['evaluator-token-id', /"token":"gth_sat_([0-9a-f]{12})_/],
  ['alice-token-id', /"token":"gth_pat_([0-9a-f]{12})_/],
  ['ci-token-id', /^token ([0-9a-f]{12}) for service account ci /m],
];
const values = new Map<string, string>();
const capture = (output: string) => {
  for (const [name, re] of CAPTURES) {
    const m = re.exec(output);
    if (m && !values.has(name)) values.set(name, m[1]!);
  }
};

/** One block in a bash that inherits the exports of the blocks before it; set -euo pipefail, so a failing command fails it. */
function run(block: string, port: string): { code: number | null; out: string } {
  // A comment line shows where a value is printed (`← <name>`); only commands get values substituted.
  const substitute = (line: string) =>
    /^\s*#/.test(line)
      ? line
      : line.replace(/<([a-z][a-z0-9-]*)>/g, (_, name: string) => {
          const v = values.get(name);
          assert.ok(v !== undefined, `placeholder <${name}> has no value from an earlier step (documented ones: ${CAPTURES.map(([n]) => n).join(', ')})`);
          return v;
        });
  const text = block.replaceAll('localhost:8080', `localhost:${port}`).split('\n').map(substitute).join('\n');
  const script = `set -euo pipefail\nsource ${envFile}\n${text}\nexport -p > ${envFile}\n`;
  // --norc, and no stdin: bash given a socket as stdin reads ~/.bashrc (as under rshd), which may put another python first.
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: childEnv({ PATH: `${join(ROOT, '.tools/mlflow-venv/bin')}:${join(ROOT, 'bin')}:${process.env.PATH}`, GATEHOUSE_DATA_DIR: data }) });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('docs/admin.md, the README quickstart and docs/identity.md token examples, every bash block as written, end with the stock client creating a run with the service account token', { timeout: 900_000 }, async () => {
  const guide = bashBlocks('docs/admin.md');
  const readme = bashBlocks('README.md').filter((b) => b.includes('MLFLOW_TRACKING_URI'));
  // docs/identity.md's CLI examples (API tokens), after the guide made alice and team-a.
  const identity = bashBlocks('docs/identity.md').filter((b) => /^gatehouse /m.test(b));
  assert.equal(identity.length, 2, 'the token examples of docs/identity.md');
  assert.equal(readme.length, 1, 'the README block that points the client at the quickstart');
  assert.ok(guide.length >= 12, `${guide.length} blocks`);
  const port = String(await freePort());
  writeFileSync(envFile, '');
  let ran = 0;
  for (const [i, block] of [...guide.slice(0, 1), ...readme, ...guide.slice(1), ...identity].entries()) {
    if (/^\.\/scripts\/quickstart$/m.test(block)) {
      // The guide's first step runs in the background: the others talk to it.
      quickstart = await startQuickstart({ GATEHOUSE_DATA_DIR: data, GATEHOUSE_SERVER__PUBLIC__PORT: port, MLFLOW_PORT: String(await freePort()), GATEHOUSE_SERVER__INTERNAL__PORT: String(await freePort()) });
      capture(quickstart.stdout());
      continue;
    }
    if (block.startsWith('# your deployment')) {
      assert.match(block, /^# your deployment \(run by test\/\S+\.test\.ts/, 'names the test that runs it');
      continue;
    }
    const r = run(block, port);
    assert.equal(r.code, 0, `block ${i}:\n${block}\n--- output:\n${r.out}`);
    capture(r.out);
    ran++;
  }
  assert.ok(quickstart, 'the guide starts the quickstart');
  assert.ok(ran >= 10, `${ran} blocks ran`);
  // The last steps' effect, seen from outside: the run the trainer's client made is in team-a.
  const admin = `Basic ${Buffer.from(`admin:${values.get('admin-password')}`).toString('base64')}`;
  const search = await fetch(`http://127.0.0.1:${port}/api/2.0/mlflow/experiments/get-by-name?experiment_name=nightly-training`, { headers: { authorization: admin, 'x-mlflow-workspace': 'team-a' } });
  assert.equal(search.status, 200, await search.clone().text());
  const runs = await fetch(`http://127.0.0.1:${port}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { authorization: admin, 'x-mlflow-workspace': 'team-a', 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [((await search.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id] }),
  });
  const found = (await runs.json()) as { runs?: { data: { metrics?: { key: string; value: number }[] } }[] };
  assert.deepEqual(found.runs?.map((r) => r.data.metrics?.map((m) => [m.key, m.value])), [[['loss', 0.25]]]);
  // ... made with the trainer's token, not the administrator's password the README exported earlier.
  const audit = await fetch(`http://127.0.0.1:${port}/_gatehouse/api/v1/audit?principal=token:sa:trainer`, { headers: { authorization: admin } });
  assert.equal(audit.status, 200);
  assert.match(JSON.stringify(await audit.json()), /"runs\.create"/);
  assert.equal(await quickstart.stop(), 0);
});
