/**
 * Error hygiene: MLflow's error answers can carry its backend's internals. On MLflow 3.18 with
 * SQLite, creating an experiment whose name is taken answers 400 RESOURCE_ALREADY_EXISTS with
 * the SQLAlchemy error in the message: the SQL statement, the table and unique constraint
 * (`experiments.workspace, experiments.name`) and the bound parameters (docs/mlflow-notes.md).
 * The gateway passes such an answer on with MLflow's status, `error_code` and shape, but every
 * string in it that names internals (SQL, database errors, stack traces, server file paths) is
 * replaced by one generic message; the original goes to the audit event's private `detail`.
 * Only JSON error answers (status >= 400) are read, and at most MAX_ERROR_ANSWER_BYTES of them.
 */

/** The most of an error answer the gateway buffers to inspect; a longer one is withheld whole. */
export const MAX_ERROR_ANSWER_BYTES = 64 * 1024;

/** What the client reads instead of a message naming internals. */
export const WITHHELD_MESSAGE =
  "MLflow's error message named server internals (database statements, files or code) and was withheld by the gateway; the error code and status are MLflow's. Operators find the original in the audit trail under this request's X-Request-ID.";

/** Routes MLflow serves: an absolute path starting with one of these is an API path, not a file. */
const API_PATH = /^\/(?:api|ajax-api|static-files|mlflow-artifacts|get-artifact|model-versions|graphql|v1|gateway|health|version)(?:\/|$)/;

/** Text that names MLflow's internals. Each pattern is one kind, found in MLflow 3.18's own messages or its libraries'. */
const INTERNALS: readonly RegExp[] = [
  // SQLAlchemy's rendering of a failed statement: "(sqlite3.IntegrityError) UNIQUE constraint failed: t.c [SQL: ...] [parameters: ...]".
  /\[SQL: |\[parameters: |sqlalche\.me\/|\bsqlalchemy\b/i,
  /\((?:sqlite3|psycopg2?|pymysql|MySQLdb|mysql\.connector|pyodbc|pymssql|cx_Oracle|oracledb)\.\w+\)/,
  /\b(?:IntegrityError|OperationalError|ProgrammingError|DataError|DatabaseError|InterfaceError)\b/,
  /\b(?:UNIQUE|FOREIGN KEY|NOT NULL|CHECK|PRIMARY KEY) constraint failed\b|violates (?:unique|foreign key|not-null|check|exclusion) constraint|\bduplicate key value\b|\bDuplicate entry '/i,
  /\bno such (?:table|column)\b|\brelation "[^"]*" does not exist|\bSQLSTATE\b|\bsqlite3?\b/i,
  // Python's traceback and exception renderings.
  /Traceback \(most recent call last\)|\bFile "[^"]+", line \d+|\[Errno \d+\]| object at 0x[0-9a-f]+|<(?:class|module|function) '|site-packages|dist-packages/,
  // Storage clients naming hosts and buckets.
  /ConnectionPool\(host=|\bbotocore\b|\bboto3\b/,
  // Server file system paths: file: URIs, Windows drives.
  /\bfile:\/\/|\b[A-Za-z]:\\[^\s'"]/i,
];
/** An absolute path of two or more segments, standing alone (not the tail of a URI such as `mlflow-artifacts:/1/x`). */
const ABSOLUTE_PATH = /(?:^|[\s'"(=[,])(\/[\w.@~+-]+\/[^\s'",)\]]*)/g;

export function namesInternals(text: string): boolean {
  if (INTERNALS.some((p) => p.test(text))) return true;
  for (const m of text.matchAll(ABSOLUTE_PATH)) if (!API_PATH.test(m[1]!)) return true;
  return false;
}

/** Error answers the gateway inspects: status >= 400 with a JSON media type. */
export function isInspectedError(status: number, contentType: string | string[] | undefined): boolean {
  if (status < 400 || contentType === undefined) return false;
  const type = String(contentType).split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** MLflow's error code for a status where its answer named none (mlflow/exceptions.py HTTP_STATUS_TO_ERROR_CODE). */
function errorCodeForStatus(status: number): string {
  const known: Record<number, string> = { 400: 'BAD_REQUEST', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'ENDPOINT_NOT_FOUND', 409: 'RESOURCE_CONFLICT', 429: 'REQUEST_LIMIT_EXCEEDED', 501: 'NOT_IMPLEMENTED', 503: 'TEMPORARILY_UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
  return known[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
}

/** MLflow error shape with only the error code kept: for answers that cannot be inspected. */
function generic(status: number, text: string): Buffer {
  const code = /"error_code"\s*:\s*"([A-Z][A-Z_]{0,63})"/.exec(text)?.[1] ?? errorCodeForStatus(status);
  return Buffer.from(JSON.stringify({ error_code: code, message: WITHHELD_MESSAGE }));
}

/** Nesting deeper than this is not an MLflow error answer; it is withheld rather than walked. */
const MAX_DEPTH = 32;

/** Replaces, in place, every string value naming internals; true if one was. Iterative: no recursion on input depth. */
function scrub(root: unknown): boolean | 'too-deep' {
  let changed = false;
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_DEPTH) return 'too-deep';
    const container = node as Record<string, unknown>;
    for (const key of Object.keys(container)) {
      const value = container[key];
      if (typeof value === 'string') {
        if (key !== 'error_code' && namesInternals(value)) {
          container[key] = WITHHELD_MESSAGE;
          changed = true;
        }
      } else if (typeof value === 'object' && value !== null) stack.push({ node: value, depth: depth + 1 });
    }
  }
  return changed;
}

/** The original answer as recorded for auditors: SQL parameters (values, possibly secret) and URL credentials blanked. */
function forAudit(text: string): string {
  return text.replace(/\[parameters: [^\n]*?\](?=\\n|\n|"|$)/g, '[parameters: withheld]').replace(/(\/\/[^/\s:@'"]+):[^@\s'"/]+@/g, '$1:***@');
}

export interface CleanAnswer {
  readonly body: Buffer;
  /** The original answer, for the audit event's private detail; absent when nothing was withheld. */
  readonly withheld?: string;
}

/**
 * The error answer the client may see. `complete` is false when MLflow's answer was longer than
 * MAX_ERROR_ANSWER_BYTES (`body` holds its start), or compressed: it is withheld whole.
 */
export function cleanErrorAnswer(status: number, body: Buffer, complete: boolean): CleanAnswer {
  const text = body.toString('utf8');
  if (!complete) return { body: generic(status, text), withheld: forAudit(`${text}… (answer not inspected: over ${MAX_ERROR_ANSWER_BYTES} bytes or compressed)`) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Labelled JSON but not: passed on unless its text names internals.
    return namesInternals(text) ? { body: generic(status, text), withheld: forAudit(text) } : { body };
  }
  const scrubbed = scrub(json);
  if (scrubbed === false) return { body };
  if (scrubbed === 'too-deep') return { body: generic(status, text), withheld: forAudit(text) };
  return { body: Buffer.from(JSON.stringify(json)), withheld: forAudit(text) };
}
