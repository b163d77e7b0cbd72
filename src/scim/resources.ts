/**
 * SCIM resources as JSON (RFC 7643) from and to the SCIM service's records, list filtering
 * (RFC 7644 §3.4.2.2) and PATCH (§3.5.2). Filters are parsed by `scim2-parse-filter` and PATCH
 * operations applied by `scim-patch` (which uses the same filter parser for value paths such as
 * `members[value eq "…"]` and `emails[type eq "work"].value`): the patched resource is then read
 * back like a PUT body, so PUT and PATCH share one reading of what a client may set.
 */
import { filter as compileFilter, parse as parseFilter, type Filter } from 'scim2-parse-filter';
import { patchBodyValidation, scimPatch, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import type { ScimGroup, ScimGroupInput, ScimUser, ScimUserInput } from '../services/scim.ts';
import { callerError, GatehouseError, type ErrorCode, type ScimType } from '../errors.ts';
import { ENTERPRISE_ATTRIBUTES, URN, USER_ATTRIBUTES } from './schemas.ts';

/** The registry code of each RFC 7644 §3.12 `scimType` a 400 carries (the registry's scimType column). */
const BAD_REQUEST = {
  invalidFilter: 'GATEHOUSE_SCIM_INVALID_FILTER',
  invalidSyntax: 'GATEHOUSE_SCIM_INVALID_SYNTAX',
  invalidPath: 'GATEHOUSE_SCIM_INVALID_PATH',
  invalidValue: 'GATEHOUSE_SCIM_INVALID',
  noTarget: 'GATEHOUSE_SCIM_NO_TARGET',
  mutability: 'GATEHOUSE_SCIM_MUTABILITY',
  tooMany: 'GATEHOUSE_SCIM_TOO_MANY',
} as const satisfies Partial<Record<ScimType, ErrorCode>>;

/** A request the door refuses with 400 and this `scimType`; `message` is the SCIM error's detail. */
export function scimBadRequest(scimType: keyof typeof BAD_REQUEST, message: string): GatehouseError {
  return callerError(BAD_REQUEST[scimType], message);
}

export const etagOf = (version: number) => `W/"${version}"`;

/** The version an If-Match header names (`W/"3"` or `"3"`); undefined for none or `*`. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header);
  // An If-Match naming no version of ours matches nothing (RFC 9110 §13.1.1): version 0 never exists.
  return m ? Number(m[1]) : 0;
}

const meta = (resourceType: string, location: string, r: { created: string; lastModified: string; version: number }) => ({
  resourceType,
  created: r.created,
  lastModified: r.lastModified,
  version: etagOf(r.version),
  location,
});

export function userResource(base: string, u: ScimUser): Record<string, unknown> {
  const { [URN.enterprise]: enterprise, ...core } = u.attributes;
  return {
    schemas: enterprise === undefined ? [URN.user] : [URN.user, URN.enterprise],
    id: u.id,
    ...(u.externalId !== null && { externalId: u.externalId }),
    userName: u.userName,
    ...core,
    active: u.active,
    ...(u.groups.length > 0 && { groups: u.groups.map((g) => ({ value: g.id, $ref: `${base}/Groups/${g.id}`, display: g.displayName, type: 'direct' })) }),
    ...(enterprise !== undefined && { [URN.enterprise]: enterprise }),
    meta: meta('User', `${base}/Users/${u.id}`, u),
  };
}

export function groupResource(base: string, g: ScimGroup): Record<string, unknown> {
  return {
    schemas: [URN.group],
    id: g.id,
    ...(g.externalId !== null && { externalId: g.externalId }),
    displayName: g.displayName,
    members: g.members.map((m) => ({ value: m.id, $ref: `${base}/Users/${m.id}`, type: 'User' })),
    meta: meta('Group', `${base}/Groups/${g.id}`, g),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body's attribute named `name` (attribute names are case-insensitive, RFC 7643 §2.1). */
function field(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const v = field(body, name);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw scimBadRequest('invalidValue', `${name} must be a string`);
  return v;
}

/** `active` as a boolean, or the strings Entra ID sends ("True"/"False", any case); undefined when absent. */
function activeOf(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw scimBadRequest('invalidValue', 'active must be a boolean');
}

/** Keeps the attributes a schema declares, under their declared spelling. */
function pick(body: Record<string, unknown>, names: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const v = field(body, name);
    if (v !== undefined && v !== null) out[name] = v;
  }
  return out;
}

export function userInput(body: unknown): ScimUserInput {
  if (!isObject(body)) throw scimBadRequest('invalidSyntax', 'the body must be a JSON object');
  const userName = field(body, 'userName');
  if (typeof userName !== 'string' || userName === '') throw scimBadRequest('invalidValue', 'userName is required');
  const attributes = pick(body, USER_ATTRIBUTES);
  const enterprise = field(body, URN.enterprise);
  if (isObject(enterprise)) {
    const kept = pick(enterprise, ENTERPRISE_ATTRIBUTES);
    if (Object.keys(kept).length > 0) attributes[URN.enterprise] = kept;
  }
  return { userName, externalId: optionalString(body, 'externalId'), active: activeOf(field(body, 'active')), attributes };
}

export function groupInput(body: unknown): ScimGroupInput {
  if (!isObject(body)) throw scimBadRequest('invalidSyntax', 'the body must be a JSON object');
  const displayName = field(body, 'displayName');
  if (typeof displayName !== 'string' || displayName === '') throw scimBadRequest('invalidValue', 'displayName is required');
  const members = field(body, 'members') ?? [];
  if (!Array.isArray(members)) throw scimBadRequest('invalidValue', 'members must be a list');
  const ids = members.map((m) => {
    const v = isObject(m) ? field(m, 'value') : undefined;
    if (typeof v !== 'string') throw scimBadRequest('invalidValue', 'each member needs a value (a user id)');
    return v;
  });
  return { displayName, externalId: optionalString(body, 'externalId'), members: ids };
}

/**
 * Applies a PatchOp body to a resource (RFC 7644 §3.5.2). Operation names are matched without
 * regard to case (Entra ID sends `Replace`); the result is read back by `userInput`/`groupInput`.
 */
export function applyPatch(resource: Record<string, unknown>, body: unknown): Record<string, unknown> {
  if (!isObject(body) || !Array.isArray(body.Operations)) throw scimBadRequest('invalidSyntax', 'a PatchOp body with Operations');
  const operations = body.Operations.map((o: unknown) => (isObject(o) && typeof o.op === 'string' ? { ...o, op: o.op.toLowerCase() } : o)) as ScimPatchOperation[];
  try {
    patchBodyValidation({ schemas: [URN.patch], Operations: operations });
    // One operation at a time, in order (RFC 7644 §3.5.2: the operations apply sequentially).
    return operations.reduce((doc, op) => applyOne(doc, op), resource);
  } catch (err) {
    if (err instanceof GatehouseError) throw err;
    const scimType = (err as { scimCode?: string }).scimCode;
    throw scimBadRequest(scimType !== undefined && Object.hasOwn(BAD_REQUEST, scimType) ? (scimType as keyof typeof BAD_REQUEST) : 'invalidValue', (err as Error).message);
  }
}

/**
 * scim-patch splits a path at its last `:`, so a path that is a whole extension
 * (`urn:…:enterprise:2.0:User`) or a no-path value keyed by one becomes `urn:…:2.0` → `User`;
 * such operations on the whole extension object are applied here, all others by scim-patch.
 */
function applyOne(doc: Record<string, unknown>, op: ScimPatchOperation): Record<string, unknown> {
  const ext = URN.enterprise;
  const isExt = (p: unknown) => typeof p === 'string' && p.toLowerCase() === ext.toLowerCase();
  const withExt = (d: Record<string, unknown>, v: unknown, merge: boolean): Record<string, unknown> => {
    if (!isObject(v)) throw scimBadRequest('invalidValue', `${ext} takes an object`);
    const before = isObject(d[ext]) ? (d[ext] as Record<string, unknown>) : {};
    return { ...d, [ext]: merge ? { ...before, ...v } : v };
  };
  if (isExt(op.path)) {
    if (op.op === 'remove') {
      const { [ext]: _gone, ...rest } = doc;
      return rest;
    }
    return withExt(doc, (op as { value?: unknown }).value, op.op === 'add');
  }
  const value = (op as { value?: unknown }).value;
  if (op.path === undefined && op.op !== 'remove' && isObject(value)) {
    const key = Object.keys(value).find(isExt);
    if (key !== undefined) {
      const { [key]: extValue, ...others } = value;
      const next = withExt(doc, extValue, op.op === 'add');
      return Object.keys(others).length === 0 ? next : applyOne(next, { ...op, value: others } as ScimPatchOperation);
    }
  }
  return scimPatch(doc as unknown as ScimResource, [op], { mutateDocument: false, treatMissingAsAdd: true }) as unknown as Record<string, unknown>;
}

/** Attributes compared exactly (RFC 7643: `caseExact: true`); every other string without regard to case. */
const CASE_EXACT = new Set(['id', 'externalid', 'meta.version']);

function lowered(value: unknown, path: string): unknown {
  if (typeof value === 'string') return CASE_EXACT.has(path) ? value : value.toLowerCase();
  if (Array.isArray(value)) return value.map((v) => lowered(v, path));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lowered(v, path === '' ? k.toLowerCase() : `${path}.${k.toLowerCase()}`)]));
  return value;
}

function loweredFilter(f: Filter, prefix = ''): Filter {
  switch (f.op) {
    case 'and':
    case 'or':
      return { ...f, filters: f.filters.map((x) => loweredFilter(x, prefix)) };
    case 'not':
      return { ...f, filter: loweredFilter(f.filter, prefix) };
    case '[]':
      return { ...f, valFilter: loweredFilter(f.valFilter, `${prefix}${f.attrPath.toLowerCase()}.`) };
    case 'pr':
      return f;
    default: {
      const path = `${prefix}${f.attrPath.toLowerCase()}`;
      return typeof f.compValue === 'string' && !CASE_EXACT.has(path) ? { ...f, compValue: f.compValue.toLowerCase() } : f;
    }
  }
}

/** A predicate over resources for a `filter` query parameter. */
export function resourceFilter(text: string | undefined): (resource: Record<string, unknown>) => boolean {
  if (text === undefined || text.trim() === '') return () => true;
  let f: Filter;
  try {
    f = parseFilter(text);
  } catch (err) {
    throw scimBadRequest('invalidFilter', `filter: ${(err as Error).message.slice(0, 200)}`);
  }
  const test = compileFilter(loweredFilter(f));
  return (r) => {
    try {
      return test(lowered(r, ''));
    } catch (err) {
      // A filter the parser took but cannot apply (an operator on a value it cannot compare) is the client's, never a 500.
      throw scimBadRequest('invalidFilter', `filter: ${(err as Error).message.slice(0, 200)}`);
    }
  };
}

/** `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), on top-level attributes; id and schemas always stay. */
export function projection(attributes: string | undefined, excluded: string | undefined): (r: Record<string, unknown>) => Record<string, unknown> {
  const names = (s: string) => new Set(s.split(',').map((a) => a.trim().split('.')[0]!.toLowerCase()).filter((a) => a !== ''));
  const always = new Set(['id', 'schemas', 'meta']);
  if (attributes !== undefined && attributes.trim() !== '') {
    const keep = names(attributes);
    return (r) => Object.fromEntries(Object.entries(r).filter(([k]) => always.has(k) || keep.has(k.toLowerCase())));
  }
  if (excluded !== undefined && excluded.trim() !== '') {
    const drop = names(excluded);
    return (r) => Object.fromEntries(Object.entries(r).filter(([k]) => k === 'id' || k === 'schemas' || !drop.has(k.toLowerCase())));
  }
  return (r) => r;
}
