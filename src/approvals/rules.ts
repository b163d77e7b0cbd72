/**
 * Which MLflow calls a rule holds, in one place: each rule kind names the route rows it applies
 * to (typed `Op`s, so a renamed operation does not compile) and how the call's body names what it
 * protects. The hold-for-approval stage asks `heldBy`; `policy explain` asks the same function.
 */
import { globMatch } from '../lib/glob.ts';
import type { Op } from '../routes/mlflow/table.ts';
import type { ApprovalRule } from './config.ts';

/** What a held call would do, in the approver's words (stored with the request). */
export type CallSummary = { readonly kind: 'alias'; readonly model: string; readonly alias: string; readonly version: string };

const KIND_OPS: Record<ApprovalRule['kind'], readonly Op[]> = {
  // MLflow's set_registered_model_alias handler reads name, alias and version from the JSON body.
  alias: ['registeredModels.setAlias'],
};

function summaryOf(kind: ApprovalRule['kind'], json: unknown): CallSummary | undefined {
  if (kind !== 'alias' || typeof json !== 'object' || json === null) return undefined;
  const { name, alias, version } = json as Record<string, unknown>;
  if (typeof name !== 'string' || typeof alias !== 'string') return undefined;
  return { kind, model: name, alias, version: typeof version === 'string' || typeof version === 'number' ? String(version) : '' };
}

/** Whether `rule` applies in `tenant` (a rule without tenants applies in every one). */
const inTenant = (rule: ApprovalRule, tenant: string | undefined) => rule.tenants === undefined || (tenant !== undefined && rule.tenants.includes(tenant));

/**
 * The first rule that holds a call of `op` in `tenant` with body `json`, and what the call would
 * do. A body the rule cannot read (no alias name) is held too: it is never let through unread.
 */
export function heldBy(rules: readonly ApprovalRule[], op: string, tenant: string | undefined, json: unknown): { readonly rule: ApprovalRule; readonly summary: CallSummary | undefined } | undefined {
  for (const rule of rules) {
    if (!(KIND_OPS[rule.kind] as readonly string[]).includes(op) || !inTenant(rule, tenant)) continue;
    const summary = summaryOf(rule.kind, json);
    if (summary === undefined || rule.aliases.some((p) => globMatch(p, summary.alias))) return { rule, summary };
  }
  return undefined;
}

/** The rules that would hold some call of `op` in `tenant` (policy explain). */
export function rulesFor(rules: readonly ApprovalRule[], op: string, tenant: string | undefined): ApprovalRule[] {
  return rules.filter((r) => (KIND_OPS[r.kind] as readonly string[]).includes(op) && inTenant(r, tenant));
}
