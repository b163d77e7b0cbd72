/**
 * The audit event: one per request that reaches the pipeline (allowed, denied, malformed or
 * failed), built from the request context by the runner's audit observer. Only facts the
 * gateway established are recorded; no header but the user agent, no body, no credential.
 * Admin events (admin-event.ts) share the chain and the sinks; they carry `type: 'admin'`.
 */
import { ERRORS, type ErrorCode, type ErrorOutcome, type ErrorSpec } from '../errors.ts';
import { escapeText } from '../lib/escape-text.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { AdminAuditEvent } from './admin-event.ts';
import type { ReasonId } from '../model/decision.ts';

export { escapeText };

/** `pending`: written before a mutating request is forwarded (audit.mode required); `complete`: after it ended. */
export type AuditPhase = 'pending' | 'complete';

/** How the request ended, for auditors: `allowed` (forwarded), or how its error ended it (src/errors.ts ErrorOutcome). */
export type AuditOutcome = 'allowed' | ErrorOutcome | 'pending';

/** Every AuditOutcome, for query filters (the type below fails to compile if one is missing). */
export const AUDIT_OUTCOMES = ['allowed', 'denied', 'malformed', 'failed', 'aborted', 'pending'] as const satisfies readonly AuditOutcome[];
const outcomesComplete: [Exclude<AuditOutcome, (typeof AUDIT_OUTCOMES)[number]>] extends [never] ? true : false = true;
void outcomesComplete;

export interface RequestAuditEvent {
  /** Event format version. */
  readonly v: 1;
  /**
   * Absent: a request event has exactly the fields it had before admin events existed (an extra
   * field costs ~20% more to seal, per event and sink). Admin events carry `type: 'admin'`.
   */
  readonly type?: undefined;
  readonly phase: AuditPhase;
  /** ISO 8601 time the event was built. */
  readonly time: string;
  readonly requestId: string;
  readonly principal: { readonly id: string; readonly kind: string; readonly method: string; readonly provider: string } | null;
  readonly tenant: string | null;
  readonly client: { readonly address: string; readonly userAgent: string | null };
  readonly method: string;
  /** Route operation id (`runs.create`); null when no route matched. */
  readonly operation: string | null;
  readonly action: string | null;
  /** The resource ids the request named (ctx.resources): kind, id, composite key parts, where they were read. */
  readonly resources: readonly AuditResource[];
  readonly decision: { readonly effect: 'allow' | 'deny'; readonly reasons: readonly ReasonId[] } | null;
  readonly outcome: AuditOutcome;
  readonly error: ErrorCode | null;
  readonly upstreamStatus: number | null;
  /** Status sent to the client; null for `pending`. */
  readonly status: number | null;
  /** Milliseconds since arrival. */
  readonly latencyMs: number;
  /**
   * Private detail for auditors, never sent to the client: MLflow's original error answer when
   * the gateway withheld it for naming server internals (src/upstream/error-hygiene.ts). Absent otherwise.
   */
  readonly detail?: string;
}

export interface AuditResource {
  readonly kind: string;
  readonly id: string;
  readonly key: Readonly<Record<string, string>>;
  readonly from: string;
}

/** Every event a sink takes: a request's or an admin change's. */
export type AuditEvent = RequestAuditEvent | AdminAuditEvent;

/** An event's place in the sink's hash chain (chain.ts). */
export interface ChainLinks {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

/** What a sink stores: the event plus its place in the sink's hash chain. */
export type ChainedEvent = AuditEvent & ChainLinks;
export type ChainedRequestEvent = RequestAuditEvent & ChainLinks;

export interface BuildOptions {
  readonly phase: AuditPhase;
  readonly now: Date;
  readonly status?: number;
  readonly durationMs: number;
  readonly userAgentMaxLength: number;
}

/** How the request ended: the error registry says it for each code (src/errors.ts `outcome`). */
export function outcomeOf(error: ErrorCode | undefined, decision: RequestContext['decision']): AuditOutcome {
  if (error === undefined) return decision?.effect === 'deny' ? 'denied' : 'allowed';
  return ERRORS[error].outcome;
}

/**
 * The engine's decision, or for a request refused before (or instead of) one, the refusal's
 * reason id from the registry: every denied request's event says why.
 */
function decisionOf(ctx: RequestContext): RequestAuditEvent['decision'] {
  if (ctx.decision) return { effect: ctx.decision.effect, reasons: [...ctx.decision.reasons] };
  const reason = ctx.errorCode === undefined ? undefined : (ctx.errorReason ?? (ERRORS[ctx.errorCode] as ErrorSpec).reason);
  return reason === undefined ? null : { effect: 'deny', reasons: [reason] };
}

/** The most of MLflow's withheld error text an event keeps (characters). */
const DETAIL_MAX = 4096;

export function buildAuditEvent(ctx: RequestContext, o: BuildOptions): RequestAuditEvent {
  const p = ctx.principal;
  const ua = ctx.req.headers['user-agent'];
  return {
    v: 1,
    phase: o.phase,
    time: o.now.toISOString(),
    requestId: ctx.requestId,
    principal: p ? { id: p.id, kind: p.kind, method: p.method, provider: p.provider } : null,
    tenant: ctx.tenant ?? null,
    client: { address: ctx.peer, userAgent: typeof ua === 'string' ? escapeText(ua, o.userAgentMaxLength) : null },
    method: escapeText(ctx.req.method ?? '', 16),
    operation: ctx.route?.row.op ?? null,
    action: ctx.route?.row.action ?? null,
    resources: ctx.resources.map((r) => ({
      kind: r.kind,
      id: escapeText(r.id, 512),
      key: Object.fromEntries(Object.entries(r.key).map(([k, v]) => [k, escapeText(v, 512)])),
      from: r.from,
    })),
    decision: decisionOf(ctx),
    outcome: o.phase === 'pending' ? 'pending' : outcomeOf(ctx.errorCode, ctx.decision),
    error: ctx.errorCode ?? null,
    upstreamStatus: ctx.upstreamStatus ?? null,
    status: o.phase === 'pending' ? null : (o.status ?? null),
    latencyMs: Math.round(o.durationMs * 1000) / 1000,
    ...(ctx.withheldError !== undefined && { detail: escapeText(ctx.withheldError, DETAIL_MAX) }),
  };
}
