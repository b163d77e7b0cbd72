/**
 * Filtered searches with complete pages: when a principal may read only some experiments or
 * registered models (resource-scoped grants, ownership, resource-scoped denies), the gateway
 * pages through MLflow's own results, keeps what the engine allows item by item, and refills
 * each page to the size asked for. Its page token wraps MLflow's: `gh1.<base64url {t, s}>` =
 * "MLflow page `t`, skipping its first `s` results". Work per request is bounded; past the
 * bound the page may be short, but its token always continues exactly where it stopped.
 */
import { GatehouseError } from '../../errors.ts';
import { setMembers } from '../../lib/json-splice.ts';
import type { Rewritten } from '../../pipeline/context.ts';
import { parseAnswer, type Upstream } from '../../upstream/upstream.ts';
import type { SearchFilterSpec } from './types.ts';

const MAX_UPSTREAM_PAGES = 50;
const MAX_PAGE_BYTES = 64 * 1024 * 1024;
const TOKEN_PREFIX = 'gh1.';

interface Cursor {
  readonly t: string | null;
  readonly s: number;
}

function encodeToken(c: Cursor): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeToken(token: unknown): Cursor {
  if (token === undefined || token === null || token === '') return { t: null, s: 0 };
  if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX)) throw new GatehouseError('GATEHOUSE_REQUEST_BAD_PAGE_TOKEN', 'not a gateway page token');
  try {
    const c = JSON.parse(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8')) as Cursor;
    if ((c.t !== null && typeof c.t !== 'string') || !Number.isSafeInteger(c.s) || c.s < 0) throw new Error('shape');
    return c;
  } catch {
    throw new GatehouseError('GATEHOUSE_REQUEST_BAD_PAGE_TOKEN', 'malformed gateway page token');
  }
}

/** The search's parameters as MLflow reads them: query for GET, JSON body otherwise. */
function readParams(ctx: Rewritten): Record<string, unknown> {
  if (ctx.req.method === 'GET') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of ctx.target.query) out[k] = v.length === 1 ? v[0] : v;
    return out;
  }
  return { ...((ctx.json as Record<string, unknown> | undefined) ?? {}) };
}

/** One page of the search: the caller's parameters with `changes` (the tenant filter, page size and token) applied. */
function pageRequest(ctx: Rewritten, changes: Record<string, unknown>) {
  const headers = { ...ctx.upstreamHeaders };
  if (ctx.req.method === 'GET') {
    const params = { ...readParams(ctx), ...changes };
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined && one !== null) q.append(k, String(one));
    return { method: 'GET', path: `${ctx.target.rawPath}?${q.toString()}`, headers, body: null, sink: ctx };
  }
  // The caller's own bytes with the changed members spliced in (read-body decoded them as strict UTF-8).
  const body = Buffer.from(setMembers(ctx.body !== undefined && ctx.body.length > 0 ? ctx.body.toString('utf8') : '{}', changes));
  headers['content-length'] = String(body.length);
  return { method: ctx.method, path: ctx.target.rawPath, headers, body, sink: ctx };
}

export async function filteredSearch(ctx: Rewritten, upstream: Upstream, spec: SearchFilterSpec, allow: (item: Record<string, unknown>) => boolean | Promise<boolean>): Promise<void> {
  const params = { ...readParams(ctx), ...ctx.searchParams };
  const want = Number(params.max_results ?? spec.defaultMaxResults);
  if (!Number.isSafeInteger(want) || want <= 0) throw new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_QUERY', 'max_results must be a positive integer');
  let cursor = decodeToken(params.page_token);
  const kept: unknown[] = [];
  let next: string | undefined;
  for (let pages = 0; ; pages++) {
    const answer = await upstream.forwardBuffered(pageRequest(ctx, { ...ctx.searchParams, max_results: want, page_token: cursor.t ?? undefined }), MAX_PAGE_BYTES);
    ctx.upstreamStatus = answer.status;
    if (answer.status !== 200) {
      // MLflow refused the search itself (bad filter, ...): its answer goes back as it is.
      ctx.res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      ctx.res.end(answer.body);
      return;
    }
    const page = parseAnswer(answer.body.toString('utf8'), ctx.route.row.op, 'GATEHOUSE_UPSTREAM_BAD_RESPONSE') as Record<string, unknown> | null;
    if (typeof page !== 'object' || page === null) throw new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', `${ctx.route.row.op}: answer is not a JSON object`);
    const items = (Array.isArray(page[spec.items]) ? page[spec.items] : []) as Record<string, unknown>[];
    const upstreamNext = typeof page.next_page_token === 'string' && page.next_page_token !== '' ? page.next_page_token : undefined;
    let i = cursor.s;
    for (; i < items.length && kept.length < want; i++) if (await allow(items[i]!)) kept.push(items[i]);
    if (kept.length >= want) {
      next = i < items.length ? encodeToken({ t: cursor.t, s: i }) : upstreamNext && encodeToken({ t: upstreamNext, s: 0 });
      break;
    }
    if (!upstreamNext) break;
    cursor = { t: upstreamNext, s: 0 };
    if (pages + 1 >= MAX_UPSTREAM_PAGES) {
      next = encodeToken(cursor);
      break;
    }
  }
  const body = Buffer.from(JSON.stringify({ [spec.items]: kept, ...(next && { next_page_token: next }) }));
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
  ctx.res.end(body);
}
