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
