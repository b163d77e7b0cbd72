import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generatedDocs } from '../../src/docs/generated.ts';
import { ERRORS } from '../../src/errors.ts';

const root = resolve(import.meta.dirname, '../..');

test('generated references are committed and up to date (npm run gen:docs)', () => {
  for (const [file, content] of Object.entries(generatedDocs())) {
    assert.equal(readFileSync(resolve(root, file), 'utf8'), content, `${file} is stale: run npm run gen:docs`);
  }
});

test('docs/errors.md and the registry name the same codes, both ways', () => {
  const documented = new Set([...readFileSync(resolve(root, 'docs/errors.md'), 'utf8').matchAll(/^\| `(GATEHOUSE_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.keys(ERRORS).sort());
});

test('every error code follows GATEHOUSE_<AREA>_<THING> and maps to MLflow\'s status for its error_code', () => {
  // mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS, for the codes the registry uses.
  const mlflowStatus: Record<string, number> = {
    INVALID_PARAMETER_VALUE: 400,
    PERMISSION_DENIED: 403,
    UNAUTHENTICATED: 401,
    ENDPOINT_NOT_FOUND: 404,
    RESOURCE_DOES_NOT_EXIST: 404,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_CONFLICT: 409,
    TEMPORARILY_UNAVAILABLE: 503,
    DEADLINE_EXCEEDED: 504,
    RESOURCE_EXHAUSTED: 429,
    REQUEST_LIMIT_EXCEEDED: 429,
    INTERNAL_ERROR: 500,
    CANCELLED: 499,
    NOT_IMPLEMENTED: 501,
  };
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.match(code, /^GATEHOUSE_[A-Z]+_[A-Z_]+$/);
    assert.ok(spec.mlflowCode in mlflowStatus, `${code}: unknown MLflow code ${spec.mlflowCode}`);
    // A gateway status may differ from MLflow's mapping only where HTTP says more (405 — a read-only
    // SCIM endpoint —, 408, 412 — SCIM's If-Match, RFC 7644 §3.14 —, 413, 415 — Fastify's refusal of a
    // media type no parser reads —, 431, 502).
    if (![405, 408, 412, 413, 415, 431, 502].includes(spec.status)) assert.equal(spec.status, mlflowStatus[spec.mlflowCode], code);
  }
});
