/**
 * The logger. Secrets are redacted by construction: credential-bearing header names and
 * secret-named fields are censored wherever they appear, and `Secret` values print as
 * `[redacted]` even if logged by mistake.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Field names whose values are credentials, censored at the top level and one level down. */
const SECRET_NAMES = ['password', 'token', 'secret', 'clientSecret', 'authorization', 'cookie'];

const REDACT = [
  ...SECRET_NAMES.flatMap((n) => [n, `*.${n}`]),
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * Header names among SECRET_NAMES that are also configuration sections (`authorization: { mode }`):
 * a header's value is a string (or a list of them) and is censored; a mapping under the name is
 * configuration and is shown, with its own secret-named fields censored the same way.
 */
const ALSO_SECTIONS = new Set(['authorization', 'cookie']);

function censor(value: unknown, path: string[]): unknown {
  const mapping = typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Secret);
  if (!mapping || !ALSO_SECTIONS.has(path.at(-1)!)) return '[redacted]';
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_NAMES.includes(k) ? censor(v, [...path, k]) : v]));
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor }, base: { service: 'gatehouse' } },
    destination as pino.DestinationStream | undefined,
  );
}

/** A secret value that never prints: String(), JSON and util.inspect all give `[redacted]`. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}
