/**
 * The deploy checkers scripts/validate-deploy relies on (scripts/deploy/check-dockerfile.ts,
 * scripts/deploy/check-rendered.ts) pass on the real files and catch what they are for. The chart
 * rendering itself and the Kubernetes schema validation run in scripts/validate-deploy (helm and
 * kubernetes-validate live in .tools/); here the committed default rendering, deploy/manifests/,
 * stands in for helm's output.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCKERFILE = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
const DOCKERIGNORE = join(ROOT, '.dockerignore');
const MANIFESTS = readdirSync(join(ROOT, 'deploy/manifests'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join(ROOT, 'deploy/manifests', f), 'utf8'))
  .join('\n---\n');

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-checks-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a checker on `text` written to a file; returns its exit code and output. */
function run(script: string, text: string, ...extra: string[]): { code: number; output: string } {
  const file = join(dir, `input-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  try {
    const output = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', join(ROOT, 'scripts/deploy', script), file, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: e.stdout + e.stderr };
  }
}

describe('check-dockerfile', () => {
  const dockerfile = (text: string) => run('check-dockerfile.ts', text, DOCKERIGNORE);

  test('the real Dockerfile passes', () => {
    const r = dockerfile(DOCKERFILE);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /project rules pass/);
  });

  test('a root or named user is refused', () => {
    for (const user of ['USER root', 'USER gatehouse', 'USER 0:0']) {
      const r = dockerfile(DOCKERFILE.replace('USER 10001:10001', user));
      assert.equal(r.code, 1, user);
      assert.match(r.output, /USER must be a numeric non-root uid/);
    }
  });

  test('build tools, package installs and extra files in the final stage are refused', () => {
    const r = dockerfile(DOCKERFILE.replace('COPY src ./src', 'COPY src ./src\nCOPY test ./test\nRUN apt-get install -y --no-install-recommends gcc'));
    assert.equal(r.code, 1);
    assert.match(r.output, /must not install packages/);
    assert.match(r.output, /must not use build tools/);
    assert.match(r.output, /copies test/);
  });

  test('npm left in the final image, a missing HEALTHCHECK or a single stage is refused', () => {
    assert.match(dockerfile(DOCKERFILE.replace(' /usr/local/bin/npm /usr/local/bin/npx', '')).output, /must remove npm/);
    assert.match(dockerfile(DOCKERFILE.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, '')).output, /HEALTHCHECK must probe \/healthz/);
    const single = DOCKERFILE.replace(/FROM \$\{NODE_IMAGE\} AS deps[\s\S]*?FROM \$\{NODE_IMAGE\} AS runtime/, 'FROM ${NODE_IMAGE} AS runtime');
    const r = dockerfile(single);
    assert.equal(r.code, 1);
    assert.match(r.output, /multi-stage/);
  });
});

describe('check-rendered', () => {
  const rendered = (text: string) => run('check-rendered.ts', text);

  test('the committed default rendering passes, including the Gatehouse config check', () => {
    const r = rendered(MANIFESTS);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /config and pod checks pass/);
  });

  test('a writable root file system, root user or kept capabilities are refused', () => {
    const r = rendered(MANIFESTS.replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false').replace('runAsNonRoot: true', 'runAsNonRoot: false').replace(/drop:\n(\s+)- ALL/, 'drop:\n$1- NET_RAW'));
    assert.equal(r.code, 1);
    assert.match(r.output, /root file system must be read-only/);
    assert.match(r.output, /must run as non-root/);
    assert.match(r.output, /drop ALL capabilities/);
  });

  test('an invalid Gatehouse config in the ConfigMap is reported with its path', () => {
    const r = rendered(MANIFESTS.replace(/(\n\s+)mode: policy/, '$1mode: allow-everyone'));
    assert.equal(r.code, 1);
    assert.match(r.output, /gatehouse config: authorization\.mode/);
  });

  test('a file the configuration names but no volume provides is refused', () => {
    const ldap = ['- type: ldap', '  url: ldaps://ldap.example.com:636', '  search:', '    base: ou=people,dc=example,dc=com', '    bindDn: cn=gatehouse,dc=example,dc=com', '    bindPasswordFile: /var/run/secrets/gatehouse/ldap/password'];
    const r = rendered(MANIFESTS.replace(/\n(\s+)- type: local\n/, (_, indent: string) => `\n${indent}- type: local\n${ldap.map((l) => indent + l).join('\n')}\n`));
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /auth\.providers\[2\]\.search\.bindPasswordFile names \/var\/run\/secrets\/gatehouse\/ldap\/password, which no volume of the pod provides/);
  });

  test('probes on the wrong path and a NetworkPolicy that forgets Gatehouse are refused', () => {
    const r = rendered(MANIFESTS.replace('path: /readyz', 'path: /healthz').replace(/(from:\n\s+- podSelector:\n\s+matchLabels:\n\s+app\.kubernetes\.io\/name:) gatehouse/, '$1 someone-else'));
    assert.equal(r.code, 1);
    assert.match(r.output, /readiness probe must be GET \/readyz/);
    assert.match(r.output, /must admit the Gatehouse pods/);
  });
});
