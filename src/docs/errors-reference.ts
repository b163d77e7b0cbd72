/** Renders docs/errors.md from the error registry. */
import { ERRORS, type ErrorSpec } from '../errors.ts';

export function renderErrorsMarkdown(): string {
  const rows = Object.entries(ERRORS as Record<string, ErrorSpec>).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | \`${e.mlflowCode}\` | \`${e.outcome}\`${e.reason ? ` (\`${e.reason}\`)` : ''} | ${e.message.replace(/\|/g, '\\|')}${e.hint ? ` ${e.hint}` : ''} |`,
  );
  return [
    '# Errors',
    '',
    '<!-- Generated from src/errors.ts by `npm run gen:docs`; a test fails when it is stale. Do not edit by hand. -->',
    '',
    "Every error Gatehouse answers with has a stable code. Responses to MLflow clients use MLflow's error shape, so the",
    'Python client raises a readable `MlflowException`:',
    '',
    '```json',
    '{"error_code": "PERMISSION_DENIED", "message": "Permission denied: runs.logMetric needs EDIT on run (no-grant). Request id: 9b3ebdc8-654e-4dee-8fd1-c7c4d4154790.", "gatehouse_code": "GATEHOUSE_AUTHZ_DENIED"}',
    '```',
    '',
    'A refusal of the policy explains itself: the operation, the level it needs on which kind of resource, the reason ids',
    '([authorization.md](authorization.md)) and the request id; it never names a resource (another tenant\'s is answered as',
    'not found). The message is public and never contains a credential; the private detail goes to the log, keyed by',
    'the `X-Request-ID` echoed on every response. The MLflow client retries 408, 429, 502, 503 and 504 with backoff.',
    '',
    'The audit column is the event\'s `outcome` for a request this error ends, and for a refusal the reason id its',
    '`decision` carries when the policy had not decided ([operations.md](operations.md), "Audit trail").',
    '',
    '| code | HTTP | MLflow `error_code` | audit | message |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
