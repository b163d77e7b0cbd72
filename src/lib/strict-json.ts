/**
 * Strict JSON for request bodies: what Gatehouse reads must be exactly what MLflow (Python's
 * `json`, then protobuf's `json_format`) reads. Python and Node disagree on some inputs, so
 * those are refused rather than guessed at:
 * - a UTF-8 byte-order mark, or UTF-16/32 (Python's `json.loads(bytes)` detects them, Node does not);
 * - `NaN`, `Infinity` (Python accepts them, JSON.parse does not);
 * - duplicate keys in one object (both take the last, but other parsers in the path may not);
 * - integers beyond 2^53 (Python keeps them exact, JavaScript rounds them).
 * And bounded, so no body costs more than its size: at most `maxDepth` nested arrays and objects,
 * at most `maxElements` elements in one array or members in one object (JsonLimitError). The
 * scanner keeps its nesting on an explicit stack, and V8's JSON.parse does not recurse either, so
 * the limits are policy, not what keeps the call stack from overflowing.
 */

export class StrictJsonError extends Error {
  override readonly name: string = 'StrictJsonError';
}

/** The document is well-formed but over a limit (nesting depth, elements in one array or object). */
export class JsonLimitError extends StrictJsonError {
  override readonly name = 'JsonLimitError';
}

export interface StrictJsonOptions {
  /** Most arrays and objects nested in one another (default 64). */
  readonly maxDepth?: number;
  /** Most elements in one array, or members in one object (default 10,000). */
  readonly maxElements?: number;
}

export const JSON_LIMIT_DEFAULTS = { maxDepth: 64, maxElements: 10_000 } as const;

export function parseStrictJson(bytes: Buffer, options: StrictJsonOptions = {}): unknown {
  if (bytes.length >= 2 && (bytes[0] === 0xfe || bytes[0] === 0xff || bytes[0] === 0 || bytes[1] === 0)) {
    throw new StrictJsonError('UTF-16/32 bodies are not accepted');
  }
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new StrictJsonError('a byte-order mark is not accepted');
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  scan(text, options.maxDepth ?? JSON_LIMIT_DEFAULTS.maxDepth, options.maxElements ?? JSON_LIMIT_DEFAULTS.maxElements);
  return JSON.parse(text);
}

/** An open array or object while scanning: its kind, the keys seen (objects) and its element count. */
interface Open {
  readonly keys: Set<string> | undefined;
  count: number;
}

/** Validates structure (duplicate keys, number range, depth, sizes); JSON.parse does the rest. */
function scan(text: string, maxDepth: number, maxElements: number): void {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new StrictJsonError(`${what} at offset ${i}`);
  };
  const over = (what: string): never => {
    throw new JsonLimitError(`${what} at offset ${i}`);
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 0x22) {
        i++;
        const raw = text.slice(start, i);
        return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      }
      if (c < 0x20) fail('control character in string');
      i++;
    }
    return fail('unterminated string');
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('invalid number');
    const literal = m![0];
    if (m![2] === undefined && m![3] === undefined && !Number.isSafeInteger(Number(literal))) fail('integer beyond 2^53');
    i += literal.length;
  };
  /** `"key":` of an object member; the value follows. */
  const member = (open: Open) => {
    ws();
    if (text[i] !== '"') fail('expected a key');
    const key = string();
    if (open.keys!.has(key)) fail(`duplicate key ${JSON.stringify(key.slice(0, 64))}`);
    open.keys!.add(key);
    ws();
    if (text[i] !== ':') fail('expected ":"');
    i++;
  };
  const stack: Open[] = [];
  for (;;) {
    // A value starts here: a scalar, or an array or object that is opened (and maybe closed at once).
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) over(`nesting deeper than ${maxDepth}`);
      i++;
      ws();
      const close = c === '{' ? '}' : ']';
      if (text[i] === close) i++;
      else {
        const open: Open = { keys: c === '{' ? new Set() : undefined, count: 1 };
        stack.push(open);
        if (open.keys) member(open);
        continue;
      }
    } else if (c === '"') {
      string();
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      number();
    } else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else fail('unexpected token');
    // The value ended: close what ends with it, up to the container that has another element.
    let more = false;
    while (stack.length > 0 && !more) {
      const open = stack[stack.length - 1]!;
      ws();
      if (text[i] === ',') {
        i++;
        if (++open.count > maxElements) over(`more than ${maxElements} ${open.keys ? 'members in an object' : 'elements in an array'}`);
        if (open.keys) member(open);
        more = true;
      } else if (text[i] === (open.keys ? '}' : ']')) {
        i++;
        stack.pop();
      } else fail(open.keys ? 'expected "," or "}"' : 'expected "," or "]"');
    }
    if (!more) break;
  }
  ws();
  if (i !== n) fail('trailing data');
}

/** `experimentIds` → `experiment_ids`: protobuf's json_format accepts both spellings of a field. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Finds a field spelled two ways in the same object (`run_id` and `runId`), anywhere in the
 * document; protobuf would read only one of them, and which one is not for us to guess.
 * Returns the clashing pair, or undefined. Depth-first, on an explicit stack: a document's depth
 * is never the depth of the call stack.
 */
export function findSpellingClash(value: unknown): [string, string] | undefined {
  interface Frame {
    readonly node: readonly unknown[] | Record<string, unknown>;
    /** An object's keys; undefined for an array. */
    readonly keys: readonly string[] | undefined;
    readonly seen: Map<string, string>;
    next: number;
  }
  const frame = (v: unknown): Frame | undefined => {
    if (Array.isArray(v)) return { node: v, keys: undefined, seen: new Map(), next: 0 };
    if (typeof v === 'object' && v !== null) return { node: v as Record<string, unknown>, keys: Object.keys(v), seen: new Map(), next: 0 };
    return undefined;
  };
  const root = frame(value);
  const stack: Frame[] = root ? [root] : [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const size = top.keys ? top.keys.length : (top.node as readonly unknown[]).length;
    if (top.next >= size) {
      stack.pop();
      continue;
    }
    const at = top.next++;
    let child: unknown;
    if (top.keys) {
      const key = top.keys[at]!;
      const norm = snakeCase(key);
      const other = top.seen.get(norm);
      if (other !== undefined) return [other, key];
      top.seen.set(norm, key);
      child = (top.node as Record<string, unknown>)[key];
    } else child = (top.node as readonly unknown[])[at];
    const inner = frame(child);
    if (inner) stack.push(inner);
  }
  return undefined;
}
