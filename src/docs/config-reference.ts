/** Renders docs/config.md from the configuration schema (descriptions and defaults live there). */
import { z } from 'zod';
import { configSchema } from '../config/schema.ts';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  const range = s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? ''}…${s.maximum ?? ''})` : '';
  return `${t}${range}`;
}

function rows(schema: JsonSchema, prefix: string, out: string[][]): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const env = `GATEHOUSE_${path
      .split('.')
      .map((p) => p.replace(/([A-Z])/g, '_$1').toUpperCase())
      .join('__')}`;
    if (child.type === 'object' && child.properties) {
      if (child.description) out.push([`**${path}**`, 'section', '', '', child.description]);
      rows(child, path, out);
      continue;
    }
    if (child.type === 'array' && child.items && (child.items.anyOf ?? child.items.oneOf)) {
      out.push([`\`${path}\``, 'list', `\`${JSON.stringify(child.default)}\``, `\`${env}\``, child.description ?? '']);
      for (const variant of child.items.anyOf ?? child.items.oneOf ?? []) {
        const kind = variant.properties?.type?.const;
        if (variant.description) out.push([`\`${path}[type=${String(kind)}]\``, 'entry', '', '', variant.description]);
        rows(variant, `${path}[type=${String(kind)}]`, out);
      }
      continue;
    }
    if (child.type === 'array' && child.items?.type === 'object' && child.items.properties) {
      out.push([`\`${path}\``, 'list', `\`${JSON.stringify(child.default)}\``, `\`${env}\``, child.description ?? '']);
      rows(child.items, `${path}[]`, out);
      continue;
    }
    const def = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``;
    const envCell = path.includes('[') ? '' : `\`${env}\``;
    out.push([`\`${path}\``, typeOf(child), def, envCell, (child.description ?? '').replace(/\n/g, ' ')]);
  }
}

export function renderConfigMarkdown(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const table: string[][] = [];
  rows(schema, '', table);
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run gen:docs`; a test fails when it is stale. Do not edit by hand. -->',
    '',
    'Gatehouse reads one YAML file (`gatehouse serve -c gatehouse.yaml`, or `$GATEHOUSE_CONFIG`), then applies',
    '`GATEHOUSE_*` environment overrides: levels are separated by `__` and written in SCREAMING_SNAKE_CASE',
    '(`GATEHOUSE_MLFLOW__URL`), values are read as YAML scalars (`8080`, `true`, `[a, b]`), and a `_FILE` suffix reads',
    'the value from a file (`GATEHOUSE_MLFLOW__URL_FILE=/run/secrets/url`). Unknown options are errors. Every problem is',
    'reported at once, with its dotted path, before anything listens; `gatehouse config check -c FILE` does the same check.',
    '',
    'Variables that are not options: `GATEHOUSE_CONFIG` (the file), `GATEHOUSE_ADMIN_USER` (first administrator, default',
    '`admin`), `GATEHOUSE_ADMIN_PASSWORD` / `GATEHOUSE_ADMIN_PASSWORD_FILE` (its password; generated and printed once if unset).',
    '',
    '| option | type | default | environment | description |',
    '|---|---|---|---|---|',
    ...table.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|').replace(/\\\\\|/g, '\\|')).join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}
