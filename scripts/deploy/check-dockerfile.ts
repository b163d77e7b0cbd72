/**
 * The project's own rules for deploy/Dockerfile, on top of hadolint (scripts/validate-deploy):
 * multi-stage, production dependencies installed with `npm ci --omit=dev` in a build stage, the
 * final stage runs as a numeric non-root user, removes npm/npx/corepack/yarn and installs no
 * package or build tool, copies only what the gateway runs (bin, src, node_modules,
 * package.json), declares the data volume, EXPOSE, HEALTHCHECK on /healthz, and starts through
 * bin/gatehouse. The .dockerignore must keep the build context to those files.
 *
 * Usage: node scripts/deploy/check-dockerfile.ts Dockerfile .dockerignore
 */
import { readFileSync } from 'node:fs';

const [dockerfile, dockerignore] = process.argv.slice(2);
if (!dockerfile || !dockerignore) {
  process.stderr.write('usage: check-dockerfile.ts Dockerfile .dockerignore\n');
  process.exit(2);
}

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Instructions with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
  }
  return out;
}

const problems: string[] = [];
const check = (ok: unknown, message: string) => {
  if (!ok) problems.push(message);
};

const all = parseDockerfile(readFileSync(dockerfile, 'utf8'));
const stageStarts = all.flatMap((ins, i) => (ins.op === 'FROM' ? [i] : []));
check(stageStarts.length >= 2, 'must be a multi-stage build (a build stage and a final stage)');
const finalStage = all.slice(stageStarts.at(-1) ?? 0);
const buildStages = all.slice(0, stageStarts.at(-1) ?? 0);
const argDefaults = new Map(all.filter((i) => i.op === 'ARG').map((i) => i.args.split('=') as [string, string]));
const fromImage = (ins: Instruction) => ins.args.split(/\s+/)[0]!.replace(/^\$\{?(\w+)\}?$/, (_, v: string) => argDefaults.get(v) ?? v);

for (const from of all.filter((i) => i.op === 'FROM')) {
  check(/^node:24[.-].*slim$/.test(fromImage(from)), `base image must be a node:24 slim image, got ${fromImage(from)}`);
}
const buildRuns = buildStages.filter((i) => i.op === 'RUN').map((i) => i.args);
check(buildRuns.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'a build stage must install dependencies with npm ci --omit=dev');

const finalRuns = finalStage.filter((i) => i.op === 'RUN').map((i) => i.args);
for (const r of finalRuns) {
  check(!/\b(apt-get|apt|apk|dnf|yum)\s+(install|add)\b/.test(r), `final stage must not install packages: RUN ${r}`);
  check(!/\b(npm|npx|yarn|pnpm|corepack)\s+(ci|install|add|exec)\b/.test(r), `final stage must not run a package manager: RUN ${r}`);
  check(!/\b(gcc|g\+\+|make|python3?|node-gyp)\b/.test(r), `final stage must not use build tools: RUN ${r}`);
}
for (const tool of ['npm', 'npx', 'corepack', 'yarn']) {
  check(finalRuns.some((r) => new RegExp(`rm -rf\\b.*\\/usr\\/local\\/bin\\/${tool}\\b`).test(r)), `final stage must remove ${tool}`);
}

const user = finalStage.filter((i) => i.op === 'USER').at(-1)?.args;
check(user !== undefined, 'final stage must set USER');
if (user !== undefined) {
  const [uid, gid] = user.split(':');
  check(/^\d+$/.test(uid ?? '') && Number(uid) > 0, `USER must be a numeric non-root uid (Kubernetes runAsNonRoot can only verify numbers), got ${user}`);
  check(gid === undefined || (/^\d+$/.test(gid) && Number(gid) > 0), `USER group must be numeric and non-root, got ${user}`);
}
const lastUserIndex = finalStage.findLastIndex((i) => i.op === 'USER');
check(!finalStage.slice(lastUserIndex + 1).some((i) => i.op === 'RUN'), 'no RUN after the final USER (it would run as that user at build time, or hint at root-owned state)');

const copies = finalStage.filter((i) => i.op === 'COPY' || i.op === 'ADD');
check(!copies.some((c) => c.op === 'ADD'), 'use COPY, not ADD');
const sources = copies.flatMap((c) => {
  const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
  return parts.slice(0, -1).map((s) => (c.args.includes('--from=') ? `from-stage:${s}` : s));
});
const allowed = new Set(['package.json', 'bin', 'src', 'from-stage:/app/node_modules']);
for (const s of sources) check(allowed.has(s.replace(/\/$/, '')), `final stage copies ${s}; only ${[...allowed].join(', ')} belong in the image`);
for (const need of allowed) check(sources.some((s) => s.replace(/\/$/, '') === need), `final stage must copy ${need}`);

const volumes = finalStage.filter((i) => i.op === 'VOLUME').map((i) => i.args);
const env = finalStage.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
const dataDir = /GATEHOUSE_DATA_DIR=(\S+)/.exec(env)?.[1];
check(dataDir !== undefined, 'final stage must set GATEHOUSE_DATA_DIR (the only writable path)');
check(dataDir !== undefined && volumes.some((v) => v.includes(dataDir)), `the data directory ${dataDir} must be a VOLUME`);
check(finalStage.some((i) => i.op === 'EXPOSE' && /\b8080\b/.test(i.args)), 'final stage must EXPOSE 8080');
const health = finalStage.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
check(/\/healthz/.test(health) && !/\bcurl\b|\bwget\b/.test(health), 'HEALTHCHECK must probe /healthz without curl or wget (not in the slim image)');
const entry = finalStage.find((i) => i.op === 'ENTRYPOINT')?.args ?? '';
check(/^\[.*bin\/gatehouse"\]$/.test(entry), 'ENTRYPOINT must exec bin/gatehouse in exec form (so the process gets SIGTERM)');

const ignore = readFileSync(dockerignore, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
check(ignore[0] === '**', '.dockerignore must start by excluding everything (**) and re-include what the image needs');
for (const need of ['package.json', 'package-lock.json', 'bin/', 'src/']) check(ignore.includes(`!${need}`), `.dockerignore must re-include ${need}`);

if (problems.length > 0) {
  process.stderr.write(`${dockerfile}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`  ${dockerfile}: ${all.length} instructions, project rules pass\n`);
