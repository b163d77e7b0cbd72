/**
 * Tag-mode tenancy (`tenancy.mode: tag`, docs/design.md "Tenancy modes"): one MLflow of any version,
 * where an experiment or registered model belongs to the tenant its tenant tag names.
 *
 * - Creation: `experiments/create` and `registered-models/create` (prompts too) get the tag of the
 *   caller's tenant added to their body; a body that already names the tag is refused.
 * - Every call: the roots a call touches are looked up with their tags (src/policy/resolve.ts)
 *   and the engine refuses another tenant's, or an untagged one, as not found (engine.ts).
 * - Searches: the caller's filter is parsed with MLflow's grammar and re-sent with the tenant
 *   clause added (routes/mlflow/filter-grammar.ts); results are still checked item by item.
 * - Protection: no route may set or delete the tag key for anyone but a platform administrator.
 *
 * Everything here applies to principals who are not platform administrators.
 */
import { GatehouseError } from '../errors.ts';
import { appendToArrayMember } from '../lib/json-splice.ts';
import type { RequestContext, Canonical } from '../pipeline/context.ts';
import { constrainFilter } from '../routes/mlflow/filter-grammar.ts';
import type { RouteSpec } from '../routes/mlflow/types.ts';
import type { AccessRequest } from '../model/access.ts';
import { isResourceAction } from '../model/permission.ts';
import type { Anchors } from '../model/resource.ts';

export interface TagTenancy {
  readonly key: string;
}

/**
 * Whether a tag key is the tenant tag. Case and surrounding blanks are ignored: a database with
 * case-insensitive collation (MySQL's default) would treat `Gatehouse.Tenant` as the same key.
 */
export function isTenantKey(key: unknown, tagKey: string): boolean {
  return typeof key === 'string' && key.trim().toLowerCase() === tagKey.toLowerCase();
}

/** Adds the keys of one `tags` field to `out`: a list of `{key, value}`, or (some 3.x routes) an object. */
function addKeysOfTags(tags: unknown, out: unknown[]): void {
  if (Array.isArray(tags)) {
    for (const t of tags) out.push(t && typeof t === 'object' ? (t as { key?: unknown }).key : undefined);
  } else if (tags && typeof tags === 'object') {
    // Logged models and datasets also accept tags as an object of key → value.
    for (const k of Object.keys(tags)) out.push(k);
  }
}

/**
 * The keys of every `tags` field at any depth of a JSON body (`trace.trace_info.tags` of
 * start-trace). An explicit stack, not recursion: a body's depth is never the call stack's.
 */
function nestedTagKeys(body: unknown, out: unknown[]): void {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const v of value) stack.push(v);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'tags') addKeysOfTags(v, out);
        stack.push(v);
      }
    }
  }
}

/**
 * Every tag key the request could write, wherever MLflow's handlers read one: a top-level
 * `key` (set-tag / delete-tag routes), every `tags` field at any depth (create, log-batch,
 * logged-model and trace tag routes, a trace's `trace_info.tags`) and the `key` / `tag_key`
 * path and query parameters. Read for every route, not a list of them: a route nobody listed
 * cannot become the way to write the tenant tag.
 */
export function tagKeysWritten(ctx: RequestContext): unknown[] {
  const keys: unknown[] = [];
  const params = ctx.route?.params ?? {};
  for (const name of ['key', 'tag_key']) if (params[name] !== undefined) keys.push(params[name]);
  const json = ctx.json;
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const body = json as Record<string, unknown>;
    keys.push(body.key);
    nestedTagKeys(body, keys);
  }
  // GET and DELETE routes that take their key in the query string (MLflow's _get_request_message).
  for (const [name, values] of ctx.target?.query ?? []) if (name === 'key' || name === 'tag_key') for (const v of values) keys.push(v);
  return keys.filter((k) => k !== undefined);
}

/** Refuses a request that would set or delete the tenant tag. */
export function refuseTenantTagWrite(ctx: RequestContext, tag: TagTenancy): void {
  if (tagKeysWritten(ctx).some((k) => isTenantKey(k, tag.key))) throw new GatehouseError('GATEHOUSE_AUTHZ_TENANT_TAG', `writes the tenant tag ${tag.key}`);
}

/**
 * Adds the tenant tag to a create body (`tags: [{key, value}]` in both messages). What MLflow
 * receives is the client's own bytes with the tag spliced into them (lib/json-splice.ts), every
 * other byte as sent; the rewrite stage sets its length.
 */
export function stampTenantTag(ctx: RequestContext, tag: TagTenancy, tenant: string): void {
  const sent = ctx.json === undefined ? {} : ctx.json;
  // MLflow would refuse these too; forwarding them unstamped would create a resource of no tenant.
  if (!sent || typeof sent !== 'object' || Array.isArray(sent)) throw new GatehouseError('GATEHOUSE_AUTHZ_TENANT_TAG', 'body is not a JSON object: the tenant tag cannot be added');
  const body = sent as Record<string, unknown>;
  const tags = body.tags ?? [];
  if (!Array.isArray(tags)) throw new GatehouseError('GATEHOUSE_AUTHZ_TENANT_TAG', 'tags is not a list: the tenant tag cannot be added');
  if (tags.some((t) => isTenantKey(t && typeof t === 'object' ? (t as { key?: unknown }).key : undefined, tag.key))) return; // an administrator's own choice
  const stamp = { key: tag.key, value: tenant };
  const text = ctx.body !== undefined && ctx.body.length > 0 ? ctx.body.toString('utf8') : '{}';
  ctx.json = { ...body, tags: [...tags, stamp] };
  // The body was decoded as strict UTF-8 (read-body), so this re-encoding gives back the bytes sent.
  ctx.body = Buffer.from(appendToArrayMember(text, 'tags', stamp));
}

/** The search parameters to send instead of the caller's: its filter with the tenant clause added. */
export function constrainedSearchParams(ctx: Canonical, tag: TagTenancy, tenant: string): Record<string, unknown> {
  let filter: unknown;
  if (ctx.req.method === 'GET') {
    const values = ctx.target.query.get('filter') ?? [];
    filter = values[0];
  } else {
    filter = (ctx.json as Record<string, unknown> | undefined)?.filter;
  }
  if (filter !== undefined && filter !== null && typeof filter !== 'string') throw new GatehouseError('GATEHOUSE_REQUEST_UNSAFE_FILTER', 'filter must be a string');
  return { filter: constrainFilter(filter, tag.key, tenant) };
}

/** A root found in the request's tenant, as the resolver reads it in tag mode: its tag names that tenant. */
export function inTenantTag(anchors: Anchors, tenant: string): Anchors {
  const roots = (anchors.experimentIds ?? anchors.experimentNames ?? anchors.modelNames ?? []).length;
  return { ...anchors, tenants: Array.from({ length: roots }, () => tenant) };
}

/**
 * Tag mode: every check of a call must name a root whose tenant tag could be read (anchors with
 * `tenants`); a call that names none is refused, except the creates that stamp the tag and the
 * REST searches that are constrained and filtered item by item. GraphQL results are not
 * filtered: there, a search must name what it reads.
 */
export function namesTaggedRoots(row: RouteSpec, request: AccessRequest, graphql: boolean): boolean {
  if (!isResourceAction(request.action)) return true;
  if (!graphql && (row.createsRoot !== undefined || row.search !== undefined)) return true;
  return request.checks.length > 0 && request.checks.every((c) => c.anchors?.tenants !== undefined);
}
