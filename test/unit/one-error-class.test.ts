/**
 * One error class, one error writer (issue 19 step 6; STYLE.md lesson 17). These read the source
 * of src/ and fail when
 * - a class other than GatehouseError (src/errors.ts) extends Error and carries a registry code
 *   (`code: ErrorCode`): a second error class the doors would each have to map;
 * - another error class carries its own status or SCIM `scimType` (an error shape beside the
 *   registry, like the SCIM door's old ScimAnswer and ScimBadRequest);
 * - a door writes an error status by hand (`reply.code(ERRORS[...].status)`, `.code(spec.status)`,
 *   `writeHead(err.spec.status ...)`, a raw `HTTP/1.1 ${ERRORS[...]...}` line) outside the one
 *   writer, src/http/error-response.ts;
 * - a door builds MLflow's error JSON itself (`{ error_code: ... }` sent, or from `ERRORS[...]`);
 * - a Fastify error or not-found handler (`setErrorHandler`, `setNotFoundHandler`) answers without
 *   calling the writer, or a page answers a refusal with a bare status (`showLogin(..., 401, ...)`).
 * Each pattern is also checked to match a line written the forbidden way, so the scan cannot pass
 * by matching nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../harness/paths.ts';

const SRC = join(ROOT, 'src');
const WRITER = 'src/http/error-response.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The body of every `class X extends Error` (up to its constructor or closing brace), by file. */
function errorClasses(): { where: string; name: string; body: string }[] {
  const found: { where: string; name: string; body: string }[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/class\s+(\w+)\s+extends\s+Error\s*\{/g)) {
      const start = m.index + m[0].length;
      const end = text.indexOf('\n}', start);
      found.push({ where: relative(ROOT, file), name: m[1]!, body: text.slice(start, end < 0 ? undefined : end) });
    }
  }
  return found;
}

const CARRIES_REGISTRY_CODE = /\bcode\??\s*:\s*ErrorCode\b/;
/** An error class answering with its own status or SCIM type instead of a registry code's. */
const CARRIES_OWN_SHAPE = /\b(?:status|scimType)\??\s*:\s*(?:number|string|ScimType)\b/;

test('GatehouseError is the only error class carrying a registry code', () => {
  assert.ok(CARRIES_REGISTRY_CODE.test('  readonly code: ErrorCode;'));
  const classes = errorClasses();
  assert.ok(classes.some((c) => c.name === 'GatehouseError' && c.where === 'src/errors.ts'), 'GatehouseError is found by the scan');
  for (const line of ['  readonly status: number;', '  readonly scimType: ScimType;', '  readonly scimType: string | undefined;']) assert.ok(CARRIES_OWN_SHAPE.test(line), line);
  const others = classes.filter((c) => c.name !== 'GatehouseError' && (CARRIES_REGISTRY_CODE.test(c.body) || CARRIES_OWN_SHAPE.test(c.body))).map((c) => `${c.where}: ${c.name}`);
  assert.deepEqual(others, []);
  assert.deepEqual(
    sources(SRC).filter((f) => /\b(?:ServiceError|AdminError)\b/.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f)),
    [],
    'no alias of a second error class is left behind',
  );
});

/** A status written from the registry by hand: the writer's job. */
const HAND_WRITTEN_STATUS = [/\.code\(\s*(?:ERRORS\[[^\]]+\]|\w*\.?spec)\.status/, /writeHead\([^)]*(?:ERRORS\[[^\]]+\]|\.spec)\.status/, /HTTP\/1\.1 \$\{ERRORS\[/];

test('no door writes an error status by hand: they call the one writer', () => {
  for (const line of ['return reply.code(ERRORS[err.code].status).send(x);', 'reply.code(spec.status).send(x)', 'res.writeHead(a ? 302 : err.spec.status, headers);', 'socket.write(`HTTP/1.1 ${ERRORS[code].status} Too Large`)']) {
    assert.ok(HAND_WRITTEN_STATUS.some((p) => p.test(line)), line);
  }
  assert.ok(existsSync(join(ROOT, WRITER)), `${WRITER} exists`);
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(ROOT, file);
    if (rel === WRITER) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (HAND_WRITTEN_STATUS.some((p) => p.test(line))) found.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

/** MLflow's error JSON built outside the writer. */
const HAND_BUILT_BODY = [/send\(\{\s*error_code\s*:/, /\berror_code\s*:\s*ERRORS\[/];
/** A login page refusal with a bare status instead of a registry code. */
const BARE_PAGE_STATUS = /showLogin\([^)]*,\s*[45]\d\d\s*,/;
/** The writer's exports: what a Fastify error or not-found handler must call. */
const WRITER_CALL = /\b(?:sendMlflowError|sendScimError|sendPlainTextError|sendHtmlError|sendError)\(/;

test('no door builds an error body or answers a Fastify refusal without the writer', () => {
  assert.ok(HAND_BUILT_BODY[0]!.test(`reply.code(404).send({ error_code: 'ENDPOINT_NOT_FOUND', message: m })`));
  assert.ok(HAND_BUILT_BODY[1]!.test('return { error_code: ERRORS[code].mlflowCode, message };'));
  assert.ok(BARE_PAGE_STATUS.test(`return showLogin(req, reply, 401, next, 'Invalid username or password.');`));
  assert.ok(!BARE_PAGE_STATUS.test('return showLogin(req, reply, 200, next);'));
  const found: string[] = [];
  let handlers = 0;
  for (const file of sources(SRC)) {
    const rel = relative(ROOT, file);
    if (rel === WRITER) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (HAND_BUILT_BODY.some((p) => p.test(line)) || BARE_PAGE_STATUS.test(line)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
      if (/\.set(?:Error|NotFound)Handler\(/.test(line)) {
        handlers++;
        // The handler's body: up to the line that closes the call.
        const end = lines.findIndex((l, j) => j >= i && /\)\s*;\s*$/.test(l) && /^\s*(?:\}\s*)?\)?\s*\)\s*;/.test(l.replace(/^\s+/, ' ')));
        const body = lines.slice(i, end < 0 ? i + 10 : end + 1).join('\n');
        if (!WRITER_CALL.test(body) || /\.code\(\s*(?:status|\d{3})\s*\)/.test(body)) found.push(`${rel}:${i + 1}: a Fastify handler answering without the writer`);
      }
    });
  }
  assert.ok(handlers >= 2, 'the admin API and SCIM handlers are found by the scan');
  assert.deepEqual(found, []);
});
