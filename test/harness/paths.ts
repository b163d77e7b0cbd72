import { resolve } from 'node:path';
import { existsSync } from 'node:fs';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MLFLOW_VENV = resolve(ROOT, '.tools/mlflow-venv');
export const PYTHON = resolve(MLFLOW_VENV, 'bin/python');
export const NODE = process.execPath;

/** The MLflow virtualenv must exist (scripts/test creates it); a missing one fails, never skips. */
export function requireMlflowVenv(): string {
  if (!existsSync(PYTHON)) {
    throw new Error(`MLflow virtualenv missing at ${MLFLOW_VENV}: run ./scripts/mlflow-venv (./scripts/test does it)`);
  }
  return PYTHON;
}

export const SCIM_VENV = resolve(ROOT, '.tools/scim-venv');

/** The SCIM clients' virtualenv (scim2-tester, scim2-client; scripts/test creates it); a missing one fails, never skips. */
export function requireScimVenv(): string {
  const python = resolve(SCIM_VENV, 'bin/python');
  if (!existsSync(python)) throw new Error(`SCIM virtualenv missing at ${SCIM_VENV}: run ./scripts/test (scripts/lib/env.sh ensure_scim_tools)`);
  return python;
}

/**
 * The variables libfaketime works through: the suite's run with the clock moved ahead
 * (scripts/test --future) must reach every child process, so the clock is the same everywhere.
 */
const FAKE_CLOCK = ['LD_PRELOAD', 'FAKETIME', 'FAKETIME_SHARED'] as const;

/**
 * A minimal environment for a child process: PATH, HOME and the fake clock (when the suite runs
 * under one), plus `extra`. Children never see the rest of the test runner's environment.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const name of FAKE_CLOCK) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...extra };
}

/** `env` without the fake clock: for third-party servers that cannot run under libfaketime. */
export function withoutFakeClock(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  for (const name of FAKE_CLOCK) delete rest[name];
  return rest;
}
