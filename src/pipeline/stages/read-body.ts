/**
 * Reads the parameters exactly as MLflow's handler will (`handlers._get_request_message`):
 * the query string for GET, the JSON body otherwise. JSON bodies are buffered and parsed
 * strictly, bounded in bytes, nesting, items per array or object (413) and time (408);
 * streamed bodies (artifacts, OTLP) are left in the request, untouched.
 * Anything two readers could disagree on is refused with 400.
 */
import { GatehouseError } from '../../errors.ts';
import { findSpellingClash, JsonLimitError, parseStrictJson, snakeCase, StrictJsonError } from '../../lib/strict-json.ts';
import type { Stage, Matched } from '../context.ts';

/** The bounds of a buffered JSON body (`server.maxJsonBodyBytes`, `maxJsonDepth`, `maxJsonElements`, `jsonBodyTimeoutMs`). */
export interface JsonBodyLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxElements: number;
  /** From the start of reading to the last byte; 0: no deadline. */
  readonly timeoutMs: number;
}

/** MLflow's handlers read `run_id or run_uuid`; the Python client sends both, equal. */
const RUN_ALIASES: readonly [string, string] = ['run_id', 'run_uuid'];

export function hasBody(ctx: Matched): boolean {
  const h = ctx.req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

export function readBody(limits: JsonBodyLimits): Stage<'matched'> {
  return {
    name: 'read-body',
    needs: 'matched',
    // Not async: a request without a JSON body passes without a promise to await (docs/performance.md).
    run(ctx) {
      const row = ctx.route.row;
      checkQuery(ctx);
      if (row.body === 'stream') return;
      if (row.body === 'none') {
        if (hasBody(ctx)) throw new GatehouseError('GATEHOUSE_REQUEST_UNEXPECTED_BODY');
        return;
      }
      return readJson(ctx, limits);
    },
  };
}

async function readJson(ctx: Matched, limits: JsonBodyLimits): Promise<void> {
  // json: MLflow enforces the content type for POST and PUT only, and force-parses the rest.
  const method = ctx.req.method;
  if (method === 'POST' || method === 'PUT') {
    const [typePart, ...params] = (ctx.req.headers['content-type'] ?? '').split(';');
    const type = typePart!.trim().toLowerCase();
    if (type !== 'application/json') throw new GatehouseError('GATEHOUSE_REQUEST_BAD_CONTENT_TYPE', type || '(none)');
    // A charset other than UTF-8 is a parser differential: Python's json sniffs the bytes, other readers honour the label.
    const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
    if (charset !== undefined && !/^charset="?utf-8"?$/.test(charset)) throw new GatehouseError('GATEHOUSE_REQUEST_BAD_CONTENT_TYPE', charset);
  }
  const body = await readAll(ctx, limits.maxBytes, limits.timeoutMs);
  ctx.body = body;
  if (body.length === 0) return;
  let json: unknown;
  try {
    json = parseStrictJson(body, limits);
  } catch (err) {
    if (err instanceof JsonLimitError) throw new GatehouseError('GATEHOUSE_REQUEST_JSON_TOO_COMPLEX', err.message);
    const detail = err instanceof StrictJsonError || err instanceof SyntaxError || err instanceof TypeError ? err.message : String(err);
    throw new GatehouseError('GATEHOUSE_REQUEST_BAD_JSON', detail);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new GatehouseError('GATEHOUSE_REQUEST_BAD_JSON', 'not an object');
  }
  const clash = findSpellingClash(json);
  if (clash) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_FIELD', `${clash[0]} / ${clash[1]}`);
  checkRunAlias(json as Record<string, unknown>);
  ctx.json = json;
}

function checkQuery(ctx: Matched): void {
  const { query } = ctx.target;
  if (query.size === 0) return;
  const row = ctx.route.row;
  if (row.body === 'json') throw new GatehouseError('GATEHOUSE_REQUEST_UNEXPECTED_QUERY');
  const repeated = new Set(row.repeated ?? []);
  const spellings = new Map<string, string>();
  for (const [key, values] of query) {
    const norm = snakeCase(key);
    const other = spellings.get(norm);
    if (other !== undefined) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_QUERY', `${other} / ${key}`);
    spellings.set(norm, key);
    if (values.length > 1 && !repeated.has(norm)) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_QUERY', `repeated ${key}`);
  }
  const single = (k: string) => {
    const v = query.get(k) ?? query.get(k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
    return v?.[0];
  };
  const [a, b] = RUN_ALIASES.map(single);
  if (a !== undefined && b !== undefined && a !== b) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_FIELD', 'run_id / run_uuid');
}

function checkRunAlias(json: Record<string, unknown>): void {
  const pick = (k: string) => json[k] ?? json[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
  const [a, b] = RUN_ALIASES.map(pick);
  if (a !== undefined && b !== undefined && a !== b) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_FIELD', 'run_id / run_uuid');
}

/**
 * The whole body: at most `max` bytes (413), within `timeoutMs` of now (408; 0: no deadline).
 * A refusal stops reading without destroying the request, so the answer still reaches the client;
 * the runner closes the connection after it (an unread body).
 */
function readAll(ctx: Matched, max: number, timeoutMs: number): Promise<Buffer> {
  const { req } = ctx;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(new GatehouseError('GATEHOUSE_REQUEST_TOO_LARGE', `content-length ${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err: unknown, body?: Buffer) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err === undefined) resolve(body!);
      else {
        req.pause();
        reject(err);
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) settle(new GatehouseError('GATEHOUSE_REQUEST_TOO_LARGE', `over ${max} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (err: Error) => settle(err);
    const timer = timeoutMs > 0 ? setTimeout(() => settle(new GatehouseError('GATEHOUSE_REQUEST_BODY_TIMEOUT', `${size} bytes in ${timeoutMs} ms`)), timeoutMs) : undefined;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
