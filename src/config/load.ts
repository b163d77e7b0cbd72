/**
 * Loads the configuration: one YAML file, then `GATEHOUSE_*` environment overrides, then the
 * schema. Every problem is collected and reported at once, each with its dotted path.
 *
 * Environment overrides: `GATEHOUSE_<SECTION>__<KEY>` with `__` between levels and each level
 * in SCREAMING_SNAKE_CASE (`GATEHOUSE_MLFLOW__URL`, `GATEHOUSE_SERVER__PUBLIC__PORT`,
 * `GATEHOUSE_DATA_DIR`). Values are read as YAML scalars or flow collections (`8080`, `true`,
 * `[a, b]`). A `_FILE` suffix reads the value from a file instead (for secrets mounted as files).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { configSchema, type Config } from './schema.ts';

/** `GATEHOUSE_*` variables that are not configuration overrides. */
const NOT_CONFIG = new Set([
  'GATEHOUSE_CONFIG',
  'GATEHOUSE_ADMIN_USER',
  'GATEHOUSE_ADMIN_PASSWORD',
  'GATEHOUSE_ADMIN_PASSWORD_FILE',
  'GATEHOUSE_MLFLOW_VERSION',
  'GATEHOUSE_MLFLOW_DEPS_FROM',
]);

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** YAML file; absent means defaults plus environment. */
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Applied last, for tests and for CLI flags. */
  readonly overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let raw: unknown = {};
  const source = options.file ?? 'defaults';
  if (options.file !== undefined) {
    try {
      raw = parseYaml(readFileSync(options.file, 'utf8'), { uniqueKeys: true }) ?? {};
    } catch (err) {
      if (err instanceof YAMLParseError) problems.push(`${options.file}: ${err.message.split('\n')[0]}`);
      else problems.push(`${options.file}: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${options.file}: the top level must be a mapping`);
      raw = {};
    }
  }
  const doc = structuredClone(raw) as Record<string, unknown>;
  const fromEnv = applyEnv(doc, env, problems);
  const origin = (path: string) => (fromEnv.has(path) ? ` (from ${fromEnv.get(path)})` : '');
  if (options.overrides) for (const [path, value] of Object.entries(options.overrides)) setPath(doc, path.split('.'), value);
  const result = configSchema.safeParse(doc);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const full = path ? `${path}.${key}` : key;
          problems.push(`${full}: unknown option${origin(full)}`);
        }
      } else problems.push(`${path || '(root)'}: ${issue.message}${origin(path)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(result.data!);
}

/** Applies the overrides; returns dotted path → variable name, to say where a bad value came from. */
function applyEnv(doc: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('GATEHOUSE_') || NOT_CONFIG.has(name) || value === undefined) continue;
    if (name.startsWith('GATEHOUSE_TEST_')) continue;
    let key = name.slice('GATEHOUSE_'.length);
    let text = value;
    if (key.endsWith('_FILE')) {
      key = key.slice(0, -'_FILE'.length);
      try {
        text = readFileSync(value, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push(`${name}: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        continue;
      }
    }
    const path = key.split('__').map(camel);
    if (path.some((p) => p === '')) {
      problems.push(`${name}: malformed override name`);
      continue;
    }
    setPath(doc, path, parseScalar(text));
    sources.set(path.join('.'), name);
  }
  return sources;
}

function parseScalar(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return text;
  }
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function setPath(doc: Record<string, unknown>, path: string[], value: unknown): void {
  let node = doc;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
