/**
 * Renders the MLflow route table as a markdown reference (docs/routes.md). Pure and
 * deterministic: the same rows always give the same text, so a test can compare the
 * committed document with a fresh rendering.
 */
import { concretePaths } from './expand.ts';
import type { RouteRow } from './table.ts';
import type { IdSource, ResourceRef, RouteSpec } from './types.ts';
import type { Action } from '../../model/permission.ts';

const ACTIONS: readonly Action[] = ['public', 'authenticated', 'read', 'use', 'edit', 'manage', 'create', 'admin', 'deny'];

/** The gateway's own behaviour columns of a row (types.ts): code, not part of the route's description. */
const BEHAVIOUR_COLUMNS = ['search', 'responseFilter', 'createsRoot', 'checks', 'usage', 'workspaceApi', 'serverInfo', 'graphql'] as const satisfies readonly (keyof RouteSpec)[];

/** A row as `gatehouse routes list --json` describes it: the route and its classification, without the behaviour columns. */
export function describedRow(row: RouteSpec): Partial<RouteSpec> {
  const out: Record<string, unknown> = { ...row };
  for (const column of BEHAVIOUR_COLUMNS) delete out[column];
  return out as Partial<RouteSpec>;
}

export function renderRoutesMarkdown(rows: readonly RouteRow[], mlflowVersion: string): string {
  const pairs = rows.reduce((n, row) => n + concretePaths(row).length, 0);
  const out: string[] = [
    '# MLflow routes',
    '',
    `Generated from \`src/routes/mlflow/table.ts\` for MLflow ${mlflowVersion}; do not edit by hand.`,
    '',
    `${rows.length} rows cover ${pairs} method and path pairs. A route that is not listed is denied and never forwarded.`,
    '',
    '## Rows by action',
    '',
    '| action | rows |',
    '|---|---|',
    ...ACTIONS.map((action) => `| ${action} | ${rows.filter((row) => row.action === action).length} |`),
    '',
    'Resources read as `kind (action): where`. `params` is MLflow\'s proto rule (query string for GET, JSON body otherwise); ' +
      '`a + b` is one composite key, `a or b` the handler\'s fallback field, `[]` a repeated field (one resource per value).',
  ];
  for (const [family, familyRows] of groupByFamily(rows)) {
    out.push('', `## ${family}`, '', '| op | method | paths | action | tenancy | body | resources | note |', '|---|---|---|---|---|---|---|---|');
    for (const row of familyRows) out.push(renderRow(row));
  }
  return `${out.join('\n')}\n`;
}

function groupByFamily(rows: readonly RouteRow[]): Map<string, RouteRow[]> {
  const families = new Map<string, RouteRow[]>();
  for (const row of rows) {
    const family = row.op.split('.', 1)[0] ?? row.op;
    const list = families.get(family) ?? [];
    list.push(row);
    families.set(family, list);
  }
  return families;
}

function renderRow(row: RouteRow): string {
  const paths = concretePaths(row).map((p) => code(p)).join('<br>');
  const resources = (row.resources ?? []).map(renderRef).join('<br>');
  const references = (row.references ?? []).map((r) => `${renderId(r.at)} (${r.read})`);
  const notes = [
    row.note ?? '',
    row.repeated?.length ? `Repeated query parameters: ${row.repeated.map(code).join(', ')}.` : '',
    references.length ? `References the gateway checks itself: ${references.join(', ')}.` : '',
    row.disabledAnswer ? `Disabled: answered ${code(JSON.stringify(row.disabledAnswer))} by the gateway, as MLflow answers with nothing configured.` : '',
  ]
    .filter((text) => text !== '')
    .map(text)
    .join(' ');
  const cells = [code(row.op), row.method, paths, row.action, row.tenancy, row.body, resources, notes];
  return `| ${cells.join(' | ')} |`;
}

function renderRef(ref: ResourceRef): string {
  const label = ref.action === undefined ? ref.kind : `${ref.kind} (${ref.action})`;
  return `${label}: ${ref.ids.map(renderId).join(' + ')}`;
}

function renderId(id: IdSource): string {
  const field = `${id.field}${id.many ? '[]' : ''}${id.alias === undefined ? '' : ` or ${id.alias}`}`;
  return `${id.in} ${code(field)}${id.reference === undefined ? '' : ` as ${id.reference}`}`;
}

/** A code span that survives a table cell. */
function code(value: string): string {
  return `\`${value.replace(/\|/g, '\\|')}\``;
}

/** Free text in a table cell: no pipes, no line breaks, no raw HTML. */
function text(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
