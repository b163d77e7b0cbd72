/**
 * Usage analytics for the admin console: `GET /_gatehouse/api/v1/usage` returns daily series
 * per tenant and operation, counted from the audit store (the `store` audit sink must be on).
 * Platform administrators only; callers authenticate with the same identity providers, in the
 * same order, as MLflow calls do (a session cookie included), and failed password attempts
 * count toward the same brute-force lockouts.
 *
 *   ?from=YYYY-MM-DD   first UTC day (default: 29 days before `to`)
 *   &to=YYYY-MM-DD     last UTC day, inclusive (default: today)
 *   &tenant=name       only this tenant
 *   &interval=day      the only interval
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatehouseError } from '../errors.ts';
import { sendMlflowError } from '../http/error-response.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { apiAuthenticator } from './auth.ts';
import { isAdmin } from '../policy/engine.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import { MLFLOW_ROUTES, type Op } from '../routes/mlflow/table.ts';
import type { UsageSeries } from '../routes/mlflow/types.ts';
import type { Store } from '../store/store.ts';
import { usageByDay, type UsageRow } from '../store/usage.ts';

export const USAGE_PATH = '/_gatehouse/api/v1/usage';

/**
 * The summary series, by the operations they count. `apiCalls` counts every MLflow call that
 * matched a route, whatever its outcome; the others count calls answered 2xx. A "model
 * reference" is a client fetching a model to use it: a logged model's metadata or files, a
 * model version's files or download location.
 */
export const USAGE_SERIES: Readonly<Record<UsageSeries, readonly Op[]>> = {
  runsCreated: opsCountedIn('runsCreated'),
  modelRegistrations: opsCountedIn('modelRegistrations'),
  modelReferences: opsCountedIn('modelReferences'),
};

/** The operations whose rows (the table's `usageSeries` column) count in `series`. */
function opsCountedIn(series: UsageSeries): readonly Op[] {
  return [...new Set(MLFLOW_ROUTES.filter((r) => r.usageSeries === series).map((r) => r.op))];
}

export interface TenantUsage {
  /** Null for calls without a tenant (global routes). */
  readonly tenant: string | null;
  /** One count per entry of `days`. */
  readonly apiCalls: number[];
  readonly runsCreated: number[];
  readonly modelRegistrations: number[];
  readonly modelReferences: number[];
  /** Calls per operation id (any outcome), one count per entry of `days`. */
  readonly operations: Record<string, number[]>;
}

export interface UsageResponse {
  readonly interval: 'day';
  readonly from: string;
  readonly to: string;
  readonly tenant: string | null;
  readonly days: string[];
  readonly tenants: TenantUsage[];
}

export interface UsageDeps {
  readonly providers: readonly IdentityProvider[];
  readonly store: Store;
  readonly policy: () => PolicySnapshot;
  readonly rateLimits?: RateLimits | undefined;
  /** Milliseconds clock for the default range. */
  readonly now?: () => number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Epoch ms of a real calendar day `YYYY-MM-DD` (not 2026-02-30), else NaN. */
function parseDay(s: string): number {
  const t = DAY.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
  return Number.isFinite(t) && dayOf(t) === s ? t : NaN;
}

export function registerUsage(app: FastifyInstance, deps: UsageDeps): void {
  const authenticate = apiAuthenticator(deps);

  app.get(USAGE_PATH, async (req, reply) => {
    try {
      const principal = await authenticate(req);
      if (isAdmin(deps.policy(), principal) === undefined) throw new GatehouseError('GATEHOUSE_AUTHZ_DENIED', 'usage analytics: not a platform administrator');
      const q = parseQuery(req.query as Record<string, unknown>, (deps.now ?? Date.now)());
      const rows = await usageByDay(deps.store.db, q);
      return reply.code(200).header('cache-control', 'no-store').send(toResponse(q, rows));
    } catch (err) {
      if (err instanceof GatehouseError) return sendMlflowError(reply, err);
      throw err;
    }
  });
}


function parseQuery(query: Record<string, unknown>, now: number): { from: string; to: string; tenant: string | undefined } {
  const bad = (detail: string) => new GatehouseError('GATEHOUSE_REQUEST_AMBIGUOUS_QUERY', `usage: ${detail}`);
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw bad(`${name} repeated`);
    return v;
  };
  for (const name of Object.keys(query)) if (!['from', 'to', 'tenant', 'interval'].includes(name)) throw bad(`unknown parameter ${name}`);
  const interval = one('interval') ?? 'day';
  if (interval !== 'day') throw bad('interval must be day');
  const toText = one('to') ?? dayOf(now);
  const to = parseDay(toText);
  if (Number.isNaN(to)) throw bad('to must be YYYY-MM-DD');
  const fromText = one('from') ?? dayOf(to - 29 * 86_400_000);
  const from = parseDay(fromText);
  if (Number.isNaN(from)) throw bad('from must be YYYY-MM-DD');
  if (from > to) throw bad('from is after to');
  if ((to - from) / 86_400_000 + 1 > MAX_DAYS) throw bad(`at most ${MAX_DAYS} days`);
  const tenant = one('tenant');
  if (tenant !== undefined && (tenant === '' || tenant.length > 256)) throw bad('tenant');
  return { from: fromText, to: toText, tenant };
}

function toResponse(q: { from: string; to: string; tenant: string | undefined }, rows: readonly UsageRow[]): UsageResponse {
  const days: string[] = [];
  for (let t = Date.parse(`${q.from}T00:00:00Z`); t <= Date.parse(`${q.to}T00:00:00Z`); t += 86_400_000) days.push(dayOf(t));
  const index = new Map(days.map((d, i) => [d, i]));
  const zeros = () => days.map(() => 0);
  const series = new Map<string, Set<string>>(Object.entries(USAGE_SERIES).map(([k, ops]) => [k, new Set<string>(ops)]));
  const byTenant = new Map<string | null, TenantUsage>();
  for (const r of rows) {
    const i = index.get(r.day);
    if (i === undefined) continue;
    let t = byTenant.get(r.tenant);
    if (!t) {
      t = { tenant: r.tenant, apiCalls: zeros(), runsCreated: zeros(), modelRegistrations: zeros(), modelReferences: zeros(), operations: {} };
      byTenant.set(r.tenant, t);
    }
    t.apiCalls[i]! += r.calls;
    (t.operations[r.operation] ??= zeros())[i]! += r.calls;
    for (const [name, ops] of series) if (ops.has(r.operation)) (t[name as keyof typeof USAGE_SERIES] as number[])[i]! += r.succeeded;
  }
  const tenants = [...byTenant.values()].sort((a, b) => (a.tenant ?? '').localeCompare(b.tenant ?? ''));
  return { interval: 'day', from: q.from, to: q.to, tenant: q.tenant ?? null, days, tenants };
}
