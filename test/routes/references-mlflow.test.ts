/**
 * Differential test of the gateway's reading of references against MLflow 3.18's own functions
 * (test/routes/references_oracle.py, run in the project's MLflow virtualenv, one batch per kind).
 *
 * A generated corpus (fast-check, seeded) of spellings — leading whitespace and C0 controls,
 * embedded TAB/CR/LF, scheme case, 0-4 slashes, aliases, stages, `latest`, percent-encoding,
 * dot segments, unicode — goes both to the gateway's resource extraction (the real stage, as a
 * request would reach it) and to MLflow's real `_create_model_version` handler with recording
 * stores. Whenever MLflow resolves a reference to a resource (a registered model it copies a
 * version from, a run or logged model it binds the version to, an experiment's proxied
 * artifacts), the gateway must have refused the request or be checking that same resource.
 * Artifact paths go to `validate_path_is_safe` and MLflow auth's proxied-path reader: whatever
 * the gateway accepts, MLflow reads as the same path and the same experiment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { GatehouseError } from '../../src/errors.ts';
import { extractResource } from '../../src/pipeline/stages/extract-resource.ts';
import type { Matched } from '../../src/pipeline/context.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { runPython } from '../harness/python-client.ts';
import { splitUri, type UriParts } from '../../src/routes/mlflow/references.ts';
import type { ResourceId } from '../../src/model/resource.ts';

const ORACLE = path.join(import.meta.dirname, 'references_oracle.py');
const TENANT = 'team-a';
const SEED = 20261207;

type Body = Record<string, unknown>;
interface SourceReading {
  readonly status: number;
  readonly created: boolean;
  readonly models: readonly string[];
  readonly runs: readonly string[];
  readonly logged_models: readonly string[];
  readonly proxied?: { readonly experiment: string | null; readonly workspace: string | null; readonly invalid: boolean } | null;
  readonly error?: string;
}
interface PathReading {
  readonly ok: boolean;
  readonly path?: string;
  readonly experiment?: string | null;
  readonly workspace?: string | null;
}

const row = (op: string) => {
  const r = MLFLOW_ROUTES.find((x) => x.op === op);
  assert.ok(r, op);
  return r;
};

/** What the gateway reads from a request, as the pipeline's extract stage reads it. */
function gateway(op: string, input: { json?: Body; query?: Record<string, string>; params?: Record<string, string> }): ResourceId[] | { refused: string } {
  const r = row(op);
  const ctx = {
    req: { method: r.method, headers: {} },
    route: { row: r, template: r.path, params: input.params ?? {} },
    target: { path: '', rawPath: '', rawQuery: '', query: new Map(Object.entries(input.query ?? {}).map(([k, v]) => [k, [v]])) },
    json: input.json,
    body: input.json === undefined ? undefined : Buffer.from(JSON.stringify(input.json)),
    tenant: TENANT,
    resources: [],
  } as unknown as Matched;
  try {
    extractResource.run(ctx);
  } catch (err) {
    assert.ok(err instanceof GatehouseError, `${op} ${JSON.stringify(input)} threw ${String(err)}`);
    assert.ok(err.spec.status === 400 || err.spec.status === 404, `${op}: ${err.code}`);
    return { refused: `${err.code} ${err.detail ?? ''}` };
  }
  return ctx.resources;
}

async function oracle<T>(cases: readonly unknown[]): Promise<T[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-refs-'));
  try {
    const file = path.join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify(cases));
    const run = await runPython(ORACLE, { CASES_FILE: file }, 300_000);
    assert.equal(run.code, 0, `oracle failed: ${run.stderr.slice(-3000)}`);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { results: T[] };
    assert.equal(out.results.length, cases.length);
    return out.results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ── The corpus of spellings ───────────────────────────────────────────────────────────

const OWN_RUN = 'a'.repeat(32);
const FOREIGN_MODEL = 'team-b-model';

/** `arb` in `percent` of the samples, '' otherwise. */
const sometimes = (arb: fc.Arbitrary<string>, percent: number) => fc.tuple(fc.nat(99), arb).map(([n, v]) => (n < percent ? v : ''));

const prefix = sometimes(fc.constantFrom(' ', '  ', '\t', '\n', '\r', '\u0000', '\u0001', '\u000b', '\u000c', '\u001f', ' \u0001', '\u00a0', '\ufeff', '\u3000'), 35);
const scheme = fc.constantFrom('models', 'models', 'models', 'models', 'models', 'models', 'MODELS', 'Models', 'mOdels', 'runs', 'RUNS', 'mlflow-artifacts', 'MLFLOW-ARTIFACTS', 'file', 'FILE', 's3', 'http', 'https', 'm\u0000odels', 'mo\tdels');
const slashes = fc.constantFrom(1, 1, 1, 1, 0, 2, 3, 4).map((n) => '/'.repeat(n));
const authority = sometimes(fc.constantFrom('localhost:5000', 'databricks', 'host', '%20'), 30);
const modelName = fc.constantFrom(FOREIGN_MODEL, FOREIGN_MODEL, FOREIGN_MODEL, FOREIGN_MODEL, 'a@b', 'Team-B-Model', 'team b', ' team-b-model', 'team-b-model ', 'te%61m', 'ünïcødé', 'm-0123abcd', '.', '..', '', '@x');
const modelSuffix = fc.constantFrom('/1', '/1', '/01', '/\u0661', '/\u00b2', '/Production', '/staging', '/latest', '/LATEST', '@champion', '@champion', '@', '/1/x', '/', '', '/1?x=1', '/1#frag', '/1;p', '/%31', '/1 ', '//1', '/./1', '/../team-b-model/1');
const runId = fc.constantFrom(OWN_RUN, OWN_RUN, 'b'.repeat(32), '', '%61', ` ${OWN_RUN}`);
const artifactPath = fc.constantFrom('7/r/artifacts/model', '9/rb/artifacts/m', 'workspaces/team-b/9/x', 'workspaces/team-a/7/x', 'WORKSPACES/team-b/9/x', '1/../9/x', '%39/x', '9%2Fx', '', 'skills/x', '05/x', '7//x');
const noise = sometimes(fc.constantFrom('\t', '\n', '\r', ' ', '%09', '\u0000'), 30);
const tail = sometimes(fc.constantFrom(' ', '\t', '\u0000', '\n'), 15);

/** One spelling of a source: a scheme, some slashes, a body, then noise inserted somewhere. */
const sourceText = fc
  .tuple(prefix, scheme, slashes, authority, fc.oneof({ weight: 3, arbitrary: modelName.chain((n) => modelSuffix.map((x) => `${n}${x}`)) }, { weight: 1, arbitrary: runId.map((r) => `${r}/model`) }, { weight: 1, arbitrary: artifactPath }), fc.nat(60), noise, tail)
  .map(([pre, sch, sl, auth, rest, at, junk, end]) => {
    const head = `${sch}:${sl}${sl.length >= 2 ? auth : ''}${sl.length >= 2 && auth !== '' ? '/' : ''}`;
    const text = `${head}${rest}`;
    const i = at % (text.length + 1);
    return `${pre}${text.slice(0, i)}${junk}${text.slice(i)}${end}`;
  });

const promptTags = fc.constantFrom<unknown>(undefined, undefined, undefined, undefined, undefined, [], [{ key: 'mlflow.prompt.is_prompt', value: 'true' }], [{ key: 'mlflow.prompt.is_prompt', value: 'TRUE' }], [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.is_prompt', value: 'false' }], [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 5 }]);

const sourceBody = fc
  .tuple(sourceText, fc.constantFrom<string | undefined>(undefined, undefined, undefined, undefined, OWN_RUN, 'b'.repeat(32)), fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'm-0123abcd'), promptTags)
  .map(([source, run_id, model_id, tags]) => {
    const body: Body = { name: 'mine', source };
    if (run_id !== undefined) body.run_id = run_id;
    if (model_id !== undefined) body.model_id = model_id;
    if (tags !== undefined) body.tags = tags;
    return body;
  });

/** The spellings the outside review used, and their plain forms: always in the corpus. */
const KNOWN_SOURCES: readonly Body[] = [
  ...[' models:/team-b-model/1', '\tmodels:/team-b-model/1', '\u0000models:/team-b-model/1', 'models:///team-b-model/1', 'models:////team-b-model/1', 'MODELS:/team-b-model/1', 'mo\tdels:/team-b-model/1', 'models:/team-b\n-model/1', 'models:/team-b-model@champion', 'models:/team-b-model/latest', 'models:/team-b-model/Production', 'models:/team-b-model/1?x=1', 'dummy-source'].map((source) => ({ name: 'mine', source })),
  { name: 'mine', source: 'mlflow-artifacts:/9/rb/artifacts/model', run_id: OWN_RUN },
  { name: 'mine', source: `mlflow-artifacts:/7/${OWN_RUN}/artifacts/model`, run_id: OWN_RUN },
  { name: 'mine', source: `runs:/${OWN_RUN}/model`, run_id: OWN_RUN },
  { name: 'mine', source: 'models:/m-0123abcd', model_id: 'm-0123abcd' },
  { name: 'mine', source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] },
];

function ids(resources: readonly ResourceId[], kind: ResourceId['kind']): Set<string> {
  return new Set(resources.filter((r) => r.kind === kind).map((r) => r.id));
}

describe('model version sources: the gateway checks what MLflow 3.18 resolves', () => {
  const bodies = [...KNOWN_SOURCES, ...fc.sample(sourceBody, { numRuns: 2500, seed: SEED })];
  let readings: SourceReading[] = [];

  before(async () => {
    readings = await oracle<SourceReading>(bodies.map((body) => ({ kind: 'source', body })));
  });

  test('the corpus makes MLflow resolve other models, runs, logged models and proxied experiments', () => {
    const created = readings.filter((r) => r.created);
    const copies = created.filter((r) => r.models.includes(FOREIGN_MODEL)).length;
    assert.ok(copies >= 25, `${copies} copies of the foreign model`);
    assert.ok(created.some((r) => r.proxied?.experiment === '7'), 'a proxied-artifact source inside the run');
    // MLflow itself refuses a proxied source outside the request's run; the gateway must not rely on that.
    assert.equal(readings[KNOWN_SOURCES.findIndex((b) => b.source === 'mlflow-artifacts:/9/rb/artifacts/model')]!.created, false);
    assert.ok(created.some((r) => r.logged_models.length > 0), 'a logged-model source');
    assert.ok(readings.filter((r) => !r.created).length >= 200, 'MLflow refuses many spellings too');
  });

  test('whenever MLflow resolves a resource, the gateway refused the request or checked that resource', () => {
    const failures: string[] = [];
    bodies.forEach((body, i) => {
      const mlflow = readings[i]!;
      if (!mlflow.created) return;
      const mine = gateway('modelVersions.create', { json: body });
      if ('refused' in mine) return;
      const missing: string[] = [];
      const models = ids(mine, 'registered_model');
      for (const name of mlflow.models) if (!models.has(name)) missing.push(`registered model ${JSON.stringify(name)}`);
      const runs = ids(mine, 'run');
      for (const run of mlflow.runs) if (!runs.has(run)) missing.push(`run ${run}`);
      const logged = ids(mine, 'logged_model');
      for (const id of mlflow.logged_models) if (!logged.has(id)) missing.push(`logged model ${id}`);
      const proxied = mlflow.proxied;
      if (proxied && !proxied.invalid && proxied.experiment !== null) {
        if (!ids(mine, 'artifact').has(proxied.experiment)) missing.push(`experiment ${proxied.experiment} (proxied artifacts)`);
        if (proxied.workspace !== null && proxied.workspace !== TENANT) missing.push(`workspace ${proxied.workspace}`);
      }
      if (missing.length > 0) failures.push(`${JSON.stringify(body)}: MLflow ${mlflow.status} read ${missing.join(', ')}; gateway checked ${JSON.stringify(mine.map((r) => `${r.kind}:${r.id}`))}`);
    });
    failures.sort((a, b) => a.length - b.length);
    assert.deepEqual(failures.slice(0, 15), [], `${failures.length} of ${bodies.length} sources resolved unchecked`);
  });

  test('ordinary sources the stock client sends are accepted', () => {
    for (const body of [
      { name: 'mine', source: `runs:/${OWN_RUN}/model`, run_id: OWN_RUN },
      { name: 'mine', source: `mlflow-artifacts:/7/${OWN_RUN}/artifacts/model`, run_id: OWN_RUN },
      { name: 'mine', source: 'models:/m-0123abcd', model_id: 'm-0123abcd', run_id: OWN_RUN },
      { name: 'mine', source: 'models:/other-model/3' },
      { name: 'mine', source: 'models:/other-model@champion' },
      { name: 'mine', source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] },
    ]) {
      const mine = gateway('modelVersions.create', { json: body });
      assert.ok(!('refused' in mine), `${JSON.stringify(body)}: ${JSON.stringify(mine)}`);
    }
  });
});

/** The routes that join a caller's relative path to a trusted root, and where MLflow reads it. */
const RELATIVE_PATH_ROUTES: readonly [op: string, where: 'query' | 'body', field: string][] = [
  ['artifacts.get', 'query', 'path'],
  ['artifacts.list', 'query', 'path'],
  ['artifacts.upload', 'query', 'path'],
  ['artifacts.presignedUploadUrl', 'body', 'path'],
  ['artifacts.presignedDownloadUrl', 'body', 'path'],
  ['modelVersions.getArtifact', 'query', 'path'],
  ['loggedModels.getArtifactFile', 'query', 'artifact_file_path'],
  ['loggedModels.listArtifacts', 'query', 'artifact_directory_path'],
  ['traces.getArtifact', 'query', 'path'],
];

const pathChar = fc.constantFrom('a', 'b', '7', '/', '/', '.', '..', '%', '%2e', '%2E', '%2f', '%25', '\\', '#', '?', ';', ' ', '\t', '\u0000', '\u007f', 'ü', 'file:', 's3:', '//');
const pathText = fc.tuple(fc.array(pathChar, { maxLength: 10 }), fc.constantFrom('', '', '/', ' ', '\t')).map(([cs, tail]) => `${cs.join('')}${tail}`);
const KNOWN_PATHS = ['model/MLmodel', 'a b/c.txt', '../x', '%2e%2e/x', '%252e%252e/x', 'a/../../x', ' a', '\ta', 'a\\..\\x', 'file:///etc/passwd', '/etc/passwd', '#x', 'a/./b', 'a//b', 'dir/', '', '\u00e9t\u00e9.txt', '%61'];

test('the route table lists exactly these path references (and the trace-artifact twin)', () => {
  const listed = MLFLOW_ROUTES.flatMap((r) => (r.references ?? []).filter((f) => f.read === 'artifact-path' || f.read === 'attachment-path').map((f) => `${r.op} ${f.at.field}`));
  const expected = [...RELATIVE_PATH_ROUTES.map(([op, , field]) => `${op} ${field}`), 'traces.getArtifactV2 path'];
  assert.deepEqual(listed.sort(), expected.sort());
});

describe('artifact paths: what the gateway accepts, MLflow reads as the same path', () => {
  const paths = [...KNOWN_PATHS, ...fc.sample(pathText, { numRuns: 1500, seed: SEED })];
  let safe: PathReading[] = [];
  let proxied: PathReading[] = [];

  before(async () => {
    safe = await oracle<PathReading>(paths.map((p) => ({ kind: 'path', path: p })));
    proxied = await oracle<PathReading>(paths.flatMap((p) => [{ kind: 'proxied', path: p }, { kind: 'proxied', path: `7/${p}` }, { kind: 'proxied', path: `workspaces/team-b/${p}` }]));
  });

  for (const [op, where, field] of RELATIVE_PATH_ROUTES) {
    test(`${op} (${where} ${field}): accepted only when validate_path_is_safe reads the same path`, () => {
      const failures: string[] = [];
      const ordinary = op.startsWith('traces.') ? ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'] : ['model/MLmodel', 'a b/c.txt', 'dir/', '\u00e9t\u00e9.txt'];
      for (const p of ordinary) {
        const input = where === 'query' ? { query: { [field]: p } } : { json: { [field]: p } };
        assert.ok(!('refused' in gateway(op, input)), `${op} refuses the ordinary path ${JSON.stringify(p)}`);
      }
      paths.forEach((p, i) => {
        const input = where === 'query' ? { query: { run_id: OWN_RUN, request_id: 'tr-1', name: 'm', version: '1', [field]: p }, params: { model_id: 'm-1' } } : { json: { run_id: OWN_RUN, [field]: p } };
        const mine = gateway(op, input);
        if ('refused' in mine) return;
        const m = safe[i]!;
        if (m.ok && m.path !== p) failures.push(`${JSON.stringify(p)} is read by MLflow as ${JSON.stringify(m.path)}`);
      });
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} paths read differently`);
    });
  }

  test('proxied artifact paths: the experiment the gateway checks is the one MLflow serves, in the caller\'s workspace', () => {
    const failures: string[] = [];
    const texts = paths.flatMap((p) => [p, `7/${p}`, `workspaces/team-b/${p}`]);
    texts.forEach((p, i) => {
      const mine = gateway('artifactsProxy.download', { params: { artifact_path: p } });
      if ('refused' in mine) return;
      const m = proxied[i]!;
      if (!m.ok || m.experiment === null) return;
      const checked = ids(mine, 'artifact');
      if (!checked.has(m.experiment!)) failures.push(`${JSON.stringify(p)}: MLflow serves experiment ${m.experiment}, the gateway checked ${[...checked].join(',')}`);
      if (m.workspace !== null && m.workspace !== TENANT) failures.push(`${JSON.stringify(p)}: workspace ${m.workspace}`);
    });
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} proxied paths read differently`);
  });
});

describe('URIs: what the gateway splits, urllib.parse.urlsplit splits the same way', () => {
  const texts = [...fc.sample(sourceText, { numRuns: 4000, seed: SEED + 1 }), 'file:///srv/mlruns/1/r/artifacts', 's3://bucket/1/r/artifacts/model', 'models:/m/1', '/abs/path'];
  let split: { scheme: string; netloc: string; path: string }[] = [];

  before(async () => {
    split = await oracle(texts.map((text) => ({ kind: 'urlsplit', text })));
  });

  test('scheme, authority and path agree for every accepted spelling', () => {
    const failures: string[] = [];
    let accepted = 0;
    texts.forEach((text, i) => {
      let mine: UriParts;
      try {
        mine = splitUri(text, 'test');
      } catch (err) {
        assert.ok(err instanceof GatehouseError, String(err));
        return;
      }
      accepted++;
      const py = split[i]!;
      const same = mine.scheme === py.scheme && (mine.authority ?? '') === py.netloc && mine.path === py.path && (mine.authority !== undefined) === text.slice(mine.scheme === '' ? 0 : mine.scheme.length + 1).startsWith('//');
      if (!same) failures.push(`${JSON.stringify(text)}: gateway ${JSON.stringify(mine)}, urllib ${JSON.stringify(py)}`);
    });
    assert.ok(accepted >= 200, `only ${accepted} spellings accepted`);
    assert.deepEqual(failures.slice(0, 10), []);
  });
});

describe('run_link: MLflow stores it unread; the browser parses it (WHATWG URL, Node\'s URL here)', () => {
  const linkText = fc
    .tuple(
      sometimes(fc.constantFrom(' ', '\t', '\n', '\u0000', '\u001f', '\u00a0'), 35),
      fc.constantFrom('https', 'https', 'https', 'http', 'http', 'HTTPS', 'javascript', 'JavaScript', 'java\tscript', 'data', 'vbscript', 'file', ''),
      fc.constantFrom('://', '://', '://', '://', ':', ':/', ':///', '', '//'),
      fc.constantFrom('mlflow.example.com/#/experiments/1/runs/r', 'alert(1)', 'evil@mlflow.example.com/x', 'x.example/?o=1#mlflow/runs/r', '\\\\evil/x', '%0aalert(1)', ''),
      noise,
      fc.nat(40),
    )
    .map(([pre, sch, sep, rest, junk, at]) => {
      const text = `${sch}${sep}${rest}`;
      const i = at % (text.length + 1);
      return `${pre}${text.slice(0, i)}${junk}${text.slice(i)}`;
    });
  const links = [...fc.sample(linkText, { numRuns: 2000, seed: SEED + 2 }), 'javascript:alert(1)', ' java\tscript:alert(1)', '\u0000javascript:x', 'https://mlflow.example.com/#/experiments/1/runs/r'];

  test('whatever the gateway forwards, a browser reads as an http(s) link to the host it shows', () => {
    const failures: string[] = [];
    let accepted = 0;
    for (const run_link of links) {
      const mine = gateway('modelVersions.create', { json: { name: 'mine', source: `runs:/${OWN_RUN}/model`, run_id: OWN_RUN, run_link } });
      if ('refused' in mine || run_link === '') continue;
      accepted++;
      let url: URL;
      try {
        url = new URL(run_link);
      } catch {
        failures.push(`${JSON.stringify(run_link)}: not a URL to a browser`);
        continue;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') failures.push(`${JSON.stringify(run_link)}: ${url.protocol}`);
      else if (!run_link.startsWith(`${url.protocol}//${url.host}`)) failures.push(`${JSON.stringify(run_link)}: the browser goes to ${url.host}`);
    }
    assert.ok(accepted >= 20, `only ${accepted} links accepted`);
    assert.deepEqual(failures.slice(0, 10), []);
  });
});
