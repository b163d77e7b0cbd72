/**
 * Strict JSON for request bodies: what Gatehouse reads must be exactly what MLflow (Python's
 * `json`, then protobuf's `json_format`) reads. Python and Node disagree on some inputs, so
 * those are refused rather than guessed at:
 * - a UTF-8 byte-order mark, or UTF-16/32 (Python's `json.loads(bytes)` detects them, Node does not);
 * - `NaN`, `Infinity` (Python accepts them, JSON.parse does not);
 * - duplicate keys in one object (both take the last, but other parsers in the path may not);
 * - integers beyond 2^53 (Python keeps them exact, JavaScript rounds them);
 * - nesting deeper than `maxDepth`.
 */

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
}

export interface StrictJsonOptions {
  readonly maxDepth?: number;
}

export function parseStrictJson(bytes: Buffer, options: StrictJsonOptions = {}): unknown {
  if (bytes.length >= 2 && (bytes[0] === 0xfe || bytes[0] === 0xff || bytes[0] === 0 || bytes[1] === 0)) {
    throw new StrictJsonError('UTF-16/32 bodies are not accepted');
  }
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new StrictJsonError('a byte-order mark is not accepted');
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  scan(text, options.maxDepth ?? 64);
  return JSON.parse(text);
}

/** Validates structure (duplicate keys, number range, depth); JSON.parse does the rest. */
function scan(text: string, maxDepth: number): void {
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
  const value = (depth: number): void => {
    if (depth > maxDepth) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        if (keys.has(key)) fail(`duplicate key ${JSON.stringify(key.slice(0, 64))}`);
        keys.add(key);
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('expected "," or "}"');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('expected "," or "]"');
      }
    } else if (c === '"') {
      string();
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      number();
    } else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else fail('unexpected token');
  };
  value(0);
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
 * Returns the clashing pair, or undefined.
 */
export function findSpellingClash(value: unknown): [string, string] | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const clash = findSpellingClash(item);
      if (clash) return clash;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const seen = new Map<string, string>();
  for (const [key, child] of Object.entries(value)) {
    const norm = snakeCase(key);
    const other = seen.get(norm);
    if (other !== undefined) return [other, key];
    seen.set(norm, key);
    const clash = findSpellingClash(child);
    if (clash) return clash;
  }
  return undefined;
}
