/**
 * Changes to a JSON document made in its own text, so that everything else reaches MLflow exactly
 * as the client sent it: number forms (`9.0`, `1e3`, `-0.0`), string escapes, key order and
 * whitespace. Re-serialising a parsed body would rewrite all of them (JSON.stringify writes `9`).
 * Positions come from jsonc-parser's syntax tree; the text must be strict JSON the gateway has
 * already checked (lib/strict-json.ts: valid UTF-8, no duplicate keys), so the member is unique.
 */
import { parseTree, type Node } from 'jsonc-parser';

const end = (node: Node) => node.offset + node.length;
const splice = (text: string, at: number, insert: string) => `${text.slice(0, at)}${insert}${text.slice(at)}`;

/**
 * `text` with `element` (JSON text) appended to the array member `key` of its top-level object. A
 * member that is absent is added last, and a `null` one is replaced by `[element]`, as a reader
 * taking null for "no list" sees it. Throws TypeError when the document is not an object or the
 * member is neither an array nor null (the caller decides how to refuse that).
 */
export function appendToArrayMember(text: string, key: string, element: string): string {
  const root = parseTree(text);
  if (root?.type !== 'object') throw new TypeError('not a JSON object');
  const members = root.children ?? [];
  const value = members.find((m) => m.children?.[0]?.value === key)?.children?.[1];
  if (value === undefined) {
    const last = members.at(-1);
    return splice(text, last ? end(last) : root.offset + 1, `${last ? ',' : ''}${JSON.stringify(key)}:[${element}]`);
  }
  if (value.type === 'null') return `${text.slice(0, value.offset)}[${element}]${text.slice(end(value))}`;
  if (value.type !== 'array') throw new TypeError(`${key} is not a list`);
  const lastItem = value.children?.at(-1);
  return splice(text, lastItem ? end(lastItem) : value.offset + 1, `${lastItem ? ',' : ''}${element}`);
}
