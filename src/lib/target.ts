/**
 * Canonical request targets. MLflow (werkzeug / starlette) percent-decodes the path once and
 * routes on the result; it splits the query on `&` and decodes `+` as a space. Gatehouse reads
 * the target the same way, and refuses every target two readers could disagree on, so what is
 * matched and checked is exactly what is forwarded (the raw target, unchanged).
 */
import { GatehouseError } from '../errors.ts';

export interface CanonicalTarget {
  /** The percent-decoded path MLflow routes on. */
  readonly path: string;
  /** The path exactly as received (forwarded unchanged). */
  readonly rawPath: string;
  /** The query string without `?`, exactly as received; '' when absent. */
  readonly rawQuery: string;
  /** Decoded query parameters, in order, repeated keys kept. */
  readonly query: ReadonlyMap<string, readonly string[]>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses `req.url`; throws GatehouseError (400) for anything ambiguous. */
export function canonicalizeTarget(url: string): CanonicalTarget {
  if (!url.startsWith('/') || url.startsWith('//')) {
    throw new GatehouseError('GATEHOUSE_REQUEST_BAD_TARGET', 'not origin-form');
  }
  if (url.includes('#')) throw new GatehouseError('GATEHOUSE_REQUEST_BAD_TARGET', 'fragment in target');
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  return { path: canonicalPath(rawPath), rawPath, rawQuery, query: parseQuery(rawQuery) };
}

function canonicalPath(raw: string): string {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    // Only visible ASCII; a backslash is a separator to some servers and not to others.
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) ambiguous(`byte 0x${c.toString(16)} in path`);
  }
  const path = raw.includes('%') ? decodePath(raw) : raw;
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') ambiguous('dot segment');
    if (s === '' && i !== segments.length - 1) ambiguous('empty segment');
  }
  return path;
}

function decodePath(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) ambiguous('invalid percent-encoding');
    const b = parseInt(hex, 16);
    // Encoded separators, dots and backslashes read differently before and after decoding.
    if (b === 0x2f || b === 0x2e || b === 0x5c) ambiguous(`encoded 0x${hex}`);
    if (b < 0x20 || b === 0x7f) ambiguous('encoded control character');
    bytes.push(b);
    i += 2;
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return ambiguous('invalid UTF-8 after decoding');
  }
}

function ambiguous(detail: string): never {
  throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_PATH', detail);
}

/** werkzeug's reading of a query string: `&`-separated, `+` is a space, one percent-decoding. */
export function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (raw === '') return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeQueryComponent(eq === -1 ? part : part.slice(0, eq));
    const value = decodeQueryComponent(eq === -1 ? '' : part.slice(eq + 1));
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

function decodeQueryComponent(s: string): string {
  const plus = s.replaceAll('+', ' ');
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_QUERY', 'invalid percent-encoding in query');
  }
}
