/**
 * Changes to a JSON document made in its own text, so that everything else reaches MLflow exactly
 * as the client sent it: number forms (`9.0`, `1e3`, `-0.0`), string escapes, key order and
 * whitespace. Re-serialising a parsed body would rewrite all of them (JSON.stringify writes `9`).
 * jsonc-parser's `modify` without formatting options is a plain splice at the member it changes.
 * The text must be strict JSON the gateway has already checked (lib/strict-json.ts: valid UTF-8,
 * no duplicate keys), so each member named is unique.
 */
import { applyEdits, findNodeAtLocation, modify, parseTree } from 'jsonc-parser';

function objectRoot(text: string) {
  const root = parseTree(text);
  if (root?.type !== 'object') throw new TypeError('not a JSON object');
  return root;
}

/**
 * `text` with `element` appended to the array member `key` of its top-level object. A member that
 * is absent is added last, and a `null` one is replaced by `[element]`, as a reader taking null for
 * "no list" sees it. Throws TypeError when the document is not an object or the member is neither
 * an array nor null (the caller decides how to refuse that).
 */
export function appendToArrayMember(text: string, key: string, element: unknown): string {
  const value = findNodeAtLocation(objectRoot(text), [key]);
  if (value?.type === 'null') return applyEdits(text, modify(text, [key], [element], {}));
  if (value !== undefined && value.type !== 'array') throw new TypeError(`${key} is not a list`);
  return applyEdits(text, modify(text, [key, -1], element, { isArrayInsertion: true }));
}

/** `text` with top-level members set to new values (added last when absent), or removed where the value is undefined. */
export function setMembers(text: string, changes: Readonly<Record<string, unknown>>): string {
  objectRoot(text);
  let out = text;
  for (const [key, value] of Object.entries(changes)) out = applyEdits(out, modify(out, [key], value, {}));
  return out;
}
