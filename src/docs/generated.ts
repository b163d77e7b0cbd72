/** Every generated document, path → content. */
import { renderConfigMarkdown } from './config-reference.ts';
import { renderErrorsMarkdown } from './errors-reference.ts';
import { renderOperationsMarkdown } from './operations-reference.ts';
import { renderAuthorizationMarkdown } from './authorization-reference.ts';
import { renderRoutesMarkdown } from '../routes/mlflow/docs.ts';
import { MLFLOW_ROUTES } from '../routes/mlflow/table.ts';

export const PINNED_MLFLOW = '3.18.0';

export function generatedDocs(): Record<string, string> {
  return {
    'docs/routes.md': renderRoutesMarkdown(MLFLOW_ROUTES, PINNED_MLFLOW),
    'docs/config.md': renderConfigMarkdown(),
    'docs/errors.md': renderErrorsMarkdown(),
    'docs/operations.md': renderOperationsMarkdown(),
    'docs/authorization.md': renderAuthorizationMarkdown(MLFLOW_ROUTES),
  };
}
