/**
 * JSON values as Python's `json` module reads and writes them, for answering in MLflow's own
 * words where MLflow's message quotes a value the caller sent (`utils/validation.invalid_value`:
 * `json.dumps(value, sort_keys=True, separators=(",", ":"))`, ASCII-escaped). JavaScript loses
 * whether a number was written `31` (a Python int) or `31.0` (a float), so numbers are re-read
 * from their source text.
 */

/** A JSON number with the text it was written as. */
export class PyNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
  /** Python's type: `int` for an integer literal, `float` for one with a fraction or exponent. */
  get type(): 'int' | 'float' {
    return /[.eE]/.test(this.source) ? 'float' : 'int';
  }
}

/** A parsed JSON value whose numbers are PyNumber. */
export type PyJson = string | boolean | null | PyNumber | PyJson[] | { [key: string]: PyJson };

/** Parses JSON text keeping each number's source (Node ≥ 21's reviver context). */
export function parsePyJson(text: string): PyJson {
  const reviver = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' ? new PyNumber(context?.source ?? String(value)) : value;
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown) as PyJson;
}

/** Python's name for the type of a JSON value. */
export function pyTypeName(value: PyJson): string {
  if (value === null) return 'NoneType';
  if (value instanceof PyNumber) return value.type;
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    default:
      return 'dict';
  }
}

/** `repr(float(text))`: the shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
function pyFloatRepr(text: string): string {
  const x = Number(text);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const e = Number(exp);
  const sign = x < 0 ? '-' : '';
  if (e >= -4 && e < 16) {
    if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
    const int = digits.slice(0, e + 1).padEnd(e + 1, '0');
    const frac = digits.slice(e + 1);
    return `${sign}${int}.${frac === '' ? '0' : frac}`;
  }
  const rest = digits.slice(1);
  return `${sign}${digits[0]}${rest === '' ? '' : `.${rest}`}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function pyString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (cp < 0x20 || cp > 0x7e) {
      // Python escapes every non-ASCII code unit (astral characters as a surrogate pair), and DEL stays as is.
      if (cp === 0x7f) out += ch;
      else for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** Python sorts `str` keys by code point; JavaScript's default sort compares UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))`. */
export function pyJsonDumps(value: PyJson): string {
  if (value === null) return 'null';
  if (value instanceof PyNumber) return value.type === 'int' ? BigInt(value.source).toString() : pyFloatRepr(value.source);
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const v of value) items.push(pyJsonDumps(v));
    return `[${items.join(',')}]`;
  }
  const keys = Object.keys(value).sort(byCodePoint);
  const items: string[] = [];
  for (const k of keys) items.push(`${pyString(k)}:${pyJsonDumps(value[k]!)}`);
  return `{${items.join(',')}}`;
}
