/**
 * "Can principal P do operation O on resource R in tenant T, and why": the same engine the
 * gateway uses, asked about a principal described by name rather than authenticated.
 * Shared by `gatehouse policy explain` (src/cli/commands.ts) and `POST /_gatehouse/api/v1/policy/explain`.
 */
import { describedPrincipal } from '../identity/local-names.ts';
import { routeOfOp, type RouteRow } from '../routes/mlflow/table.ts';
import { describedRequest } from './access-request.ts';
import { decide, isAdmin, tenantsOf } from './engine.ts';
import type { PolicySnapshot } from './snapshot.ts';
import type { TenancyMode } from '../tenancy/mode.ts';
import type { Decision } from '../model/decision.ts';
import type { Binding, Scope } from '../model/policy.ts';
import type { Principal } from '../model/principal.ts';
import type { ApprovalRule } from '../approvals/config.ts';
import { rulesFor } from '../approvals/rules.ts';

export interface ExplainInput {
  /**
   * The principal as the policy names it: an identity `<provider id>:<subject>` (its id, as in
   * the audit log: `corp:8f2c…`, `ldap:alice`), or a local user or service account name.
   */
  readonly principal: string;
  /**
   * For an identity: the user name its provider asserts, when that provider is configured with
   * `assertsLocalNames` (the caller checks; src/identity/providers.ts `assertsLocalNames`).
   */
  readonly localName?: string | undefined;
  readonly serviceAccount?: boolean | undefined;
  /** Groups the identity provider would assert. */
  readonly groups?: readonly string[] | undefined;
  /** Platform administrator flag as the identity provider would assert it (local users: the store's). */
  readonly admin?: boolean | undefined;
  readonly op: string;
  /** Default: the principal's default tenant. */
  readonly tenant?: string | undefined;
  readonly experimentId?: string | undefined;
  readonly experimentName?: string | undefined;
  readonly model?: string | undefined;
  /** For the workspace routes: the workspace asked about; default: the tenant. */
  readonly workspace?: string | undefined;
  /** What the principal created (src/policy/ownership.ts), as the gateway would find it. */
  readonly owned?: readonly Scope[] | undefined;
}

/** How the deployment keeps tenants apart, as far as a decision depends on it (src/tenancy/). */
export type ExplainTenancy = Pick<TenancyMode, 'binds'>;

export interface Explanation extends Decision {
  readonly principal: string;
  readonly op: string;
  readonly action: RouteRow['action'];
  readonly tenant: string | null;
  /** The tenants the principal belongs to. */
  readonly tenants: readonly string[];
  /** The bindings named by `matchedBindings`. */
  readonly bindings: readonly Binding[];
  /**
   * The approval rules that would hold this operation in this tenant (src/approvals/rules.ts; an
   * alias rule holds only the aliases its patterns match) and who could approve; empty: none.
   */
  readonly approvals: readonly Pick<ApprovalRule, 'name' | 'kind' | 'aliases' | 'approvers' | 'required' | 'selfApproval'>[];
}

/** Undefined when `op` is not an operation of the route table. */
export function explain(snapshot: PolicySnapshot, input: ExplainInput, tenancy: ExplainTenancy, approvalRules: readonly ApprovalRule[] = []): Explanation | undefined {
  const row = routeOfOp(input.op);
  if (!row) return undefined;
  const principal: Principal = describedPrincipal(input.principal, {
    kind: input.serviceAccount ? 'service_account' : 'user',
    groups: [...(input.groups ?? [])],
    admin: input.admin ?? false,
    method: 'explain',
    provider: 'explain',
    ...(input.localName !== undefined && { localName: input.localName }),
  });
  const mine = tenantsOf(snapshot, principal);
  const tenant = input.tenant ?? (snapshot.defaultTenant && mine.includes(snapshot.defaultTenant) ? snapshot.defaultTenant : mine[0]);
  // What the tenancy binds the call to beyond the engine (tag mode: a member's tenant tag), as the authorize stage does.
  const bound = tenancy.binds(row, isAdmin(snapshot, principal) !== undefined);
  const request = describedRequest(row, {
    tenant,
    workspace: input.workspace,
    owned: input.owned,
    experiment: input.experimentId !== undefined || input.experimentName !== undefined ? { id: input.experimentId, name: input.experimentName } : undefined,
    model: input.model,
    inTenant: bound && tenant !== undefined ? (anchors) => bound.inTenant(anchors, tenant) : undefined,
  });
  const decision: Decision = bound && !bound.admits(row, request, false) ? { effect: 'deny', reasons: ['tag-unsupported'], matchedBindings: [] } : decide(snapshot, principal, request);
  const bindings = decision.matchedBindings.flatMap((id) => snapshot.bindings.filter((b) => b.id === id));
  const approvals = rulesFor(approvalRules, row.op, tenant).map(({ name, kind, aliases, approvers, required, selfApproval }) => ({ name, kind, aliases, approvers, required, selfApproval }));
  return { principal: input.principal, op: input.op, action: row.action, tenant: tenant ?? null, tenants: mine, ...decision, bindings, approvals };
}
