/**
 * Approvals: MLflow calls held until a second person signs off (issue 23). Every rule about a
 * held call lives here — who may approve (the rule's roles in the request's tenant, groups,
 * tenant admins), never the requester unless the rule allows it, two approvals from two distinct
 * people when the rule asks for two, a denial carries a comment, a request expires — and so
 * does the execution: the stored call, exactly, once (a conditional update picks one replica),
 * and only while the requester may still make it (the engine decides again with today's policy).
 * Every step is one admin audit event.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import type { ApprovalRule } from '../approvals/config.ts';
import type { CallSummary } from '../approvals/rules.ts';
import { bindingsFor, decide, groupsOf, isAdmin } from '../policy/engine.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { AccessRequest } from '../model/access.ts';
import type { Principal } from '../model/principal.ts';
import { approvalRepository, type ApprovalStatus, type StoredApproval } from '../store/approvals.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import { recordChange, type Actor, type ServiceDeps } from './context.ts';

/** The call exactly as MLflow would have received it. */
export interface HeldCall {
  readonly method: string;
  /** Path and query, as forwarded. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | undefined;
}

export interface ApprovalsDeps {
  /** The rules in force (config `approvals.rules`). A request whose rule is gone can no longer be decided. */
  readonly rules: () => readonly ApprovalRule[];
  /** The policy in force (the gateway's snapshot): who may approve, and whether the requester still may. */
  readonly policy: () => PolicySnapshot;
  /** Sends a stored call to MLflow (the tenant's upstream) and reads the answer. */
  readonly send: (tenant: string | null, call: HeldCall) => Promise<{ readonly status: number; readonly body: string }>;
  /** Public URL of the gateway for the console link; undefined: the path alone. */
  readonly consoleUrl?: string | undefined;
}

export interface ApprovalView {
  readonly id: string;
  readonly tenant: string | null;
  readonly rule: string;
  readonly required: number;
  /** Whether the requester may approve their own request (the rule's `selfApproval`). */
  readonly selfApproval: boolean;
  readonly requester: string;
  readonly op: string;
  readonly method: string;
  readonly path: string;
  readonly bodyHash: string;
  readonly summary: CallSummary | null;
  readonly status: ApprovalStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly votes: readonly { readonly approver: string; readonly decision: 'approve' | 'deny'; readonly comment: string | null; readonly at: string }[];
  readonly result: { readonly status: number; readonly body: string } | null;
}

/**
 * What MLflow has now where a held alias move would land: the alias's version, `unset` when MLflow
 * says the model has no such alias, `unknown` whenever MLflow's answer says anything else (never guessed).
 */
export type CurrentState = { readonly state: 'set'; readonly version: string } | { readonly state: 'unset' } | { readonly state: 'unknown'; readonly reason: string };

/** Headers of the stored call that describe its body: a read sent with the same headers drops them. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'transfer-encoding', 'content-encoding']);

/** Sends a stored call to the tenant's MLflow (the gateway's and the CLI's `send`); answers up to 1 MiB. */
export function upstreamSend(upstreams: () => Upstreams): ApprovalsDeps['send'] {
  return async (tenant, call) => {
    const answer = await upstreams().forTenant(tenant ?? undefined).forwardBuffered({ method: call.method, path: call.path, headers: call.headers, body: call.body ?? null }, 1024 * 1024);
    return { status: answer.status, body: answer.body.toString('utf8') };
  };
}

/** The hash of a call as stored: method, path and body bytes. */
export function callHash(call: Pick<HeldCall, 'method' | 'path' | 'body'>): string {
  return createHash('sha256').update(`${call.method} ${call.path}\n`).update(call.body ?? Buffer.alloc(0)).digest('hex');
}

const iso = (ms: number) => new Date(ms).toISOString();

export function approvalsService(deps: ServiceDeps, a: ApprovalsDeps) {
  const repo = approvalRepository(deps.store.db);

  const consolePath = (id: string) => `${a.consoleUrl?.replace(/\/+$/, '') ?? ''}/_gatehouse/#/approvals/${id}`;

  async function view(row: StoredApproval): Promise<ApprovalView> {
    const votes = await repo.votes(row.id);
    return {
      id: row.id,
      tenant: row.tenant,
      rule: row.rule,
      required: row.required,
      selfApproval: row.self_approval === 1,
      requester: row.principal_id,
      op: row.op,
      method: row.method,
      path: row.path,
      bodyHash: row.body_hash,
      summary: JSON.parse(row.summary) as CallSummary | null,
      status: row.status as ApprovalStatus,
      createdAt: iso(Number(row.created_at)),
      expiresAt: iso(Number(row.expires_at)),
      votes: votes.map((v) => ({ approver: v.approver, decision: v.decision as 'approve' | 'deny', comment: v.comment, at: iso(Number(v.at)) })),
      result: row.result_status === null ? null : { status: row.result_status, body: row.result_body ?? '' },
    };
  }

  /** May `principal` decide requests of `rule` in `tenant`. */
  function mayDecide(principal: Principal, rule: Pick<ApprovalRule, 'approvers'>, tenant: string | null): boolean {
    // A credential narrowed to another tenant, or capped to a role, carries no approver's standing (fail closed).
    const r = principal.restrict;
    if (r !== undefined && (r.maxRole !== undefined || (r.tenant !== undefined && r.tenant !== tenant))) return false;
    const policy = a.policy();
    const { roles, groups, tenantAdmins } = rule.approvers;
    const bindings = bindingsFor(policy, principal).filter((b) => b.effect === 'allow' && (b.scope.kind === 'global' || (b.scope.kind === 'tenant' && b.scope.tenant === tenant)));
    if (tenantAdmins && (isAdmin(policy, principal) !== undefined || bindings.some((b) => policy.roles.get(b.role)?.admin === true))) return true;
    if (bindings.some((b) => roles.includes(b.role))) return true;
    return groupsOf(policy, principal).some((g) => groups.includes(g));
  }

  /** Who decides a stored request: its rule as configured now (a removed rule: nobody). */
  function approversOf(row: StoredApproval): Pick<ApprovalRule, 'approvers'> | undefined {
    return a.rules().find((r) => r.name === row.rule);
  }

  async function load(id: string): Promise<StoredApproval> {
    const row = await repo.get(id);
    if (!row) throw new GatehouseError('GATEHOUSE_APPROVAL_NOT_FOUND', id);
    return expireIfDue(row);
  }

  /** A pending request past its expiry becomes expired (once: the conditional update picks one caller). */
  async function expireIfDue(row: StoredApproval): Promise<StoredApproval> {
    if (row.status !== 'pending' || Number(row.expires_at) > deps.now()) return row;
    if (await repo.transition(row.id, 'pending', 'expired', { finished_at: deps.now() })) {
      await recordChange(deps, { id: 'gatehouse', door: 'mlflow' }, { action: 'approval.expire', target: { kind: 'approval', id: row.id }, tenant: row.tenant, changes: { status: { before: 'pending', after: 'expired' } } });
    }
    return (await repo.get(row.id))!;
  }

  /** Performs the stored call once, as the requester, if the requester still may make it. */
  async function execute(row: StoredApproval): Promise<void> {
    if (!(await repo.transition(row.id, 'pending', 'executing'))) return;
    const principal = JSON.parse(row.principal) as Principal;
    const decision = decide(a.policy(), principal, JSON.parse(row.access_request) as AccessRequest);
    const target = { kind: 'approval' as const, id: row.id };
    if (decision.effect !== 'allow') {
      await repo.transition(row.id, 'executing', 'refused', { finished_at: deps.now() });
      await recordChange(deps, { id: 'gatehouse', door: 'mlflow' }, { action: 'approval.refuse', target, tenant: row.tenant, outcome: 'denied', reason: decision.reasons.join(','), changes: { status: { before: 'executing', after: 'refused' } } });
      return;
    }
    const body = row.body === null ? undefined : Buffer.from(row.body, 'base64');
    let result: { status: number; body: string };
    try {
      result = await a.send(row.tenant, { method: row.method, path: row.path, headers: JSON.parse(row.headers) as Record<string, string>, body });
    } catch (err) {
      // MLflow could not be reached: recorded as a failure (status 0), never retried behind anyone's back.
      result = { status: 0, body: err instanceof Error ? err.message : String(err) };
    }
    await repo.transition(row.id, 'executing', 'executed', { result_status: result.status, result_body: result.body.slice(0, 64 * 1024), finished_at: deps.now() });
    await recordChange(deps, { id: principal.id, door: 'mlflow' }, { action: 'approval.execute', target, tenant: row.tenant, changes: { status: { before: 'executing', after: 'executed' }, mlflowStatus: { before: null, after: result.status } } });
  }

  async function decideOn(actor: Actor, id: string, decision: 'approve' | 'deny', comment: string | undefined): Promise<ApprovalView> {
    if (decision === 'deny' && (comment === undefined || comment.trim() === '')) throw new GatehouseError('GATEHOUSE_APPROVAL_COMMENT_REQUIRED');
    const row = await load(id);
    const principal = actor.principal;
    const rule = approversOf(row);
    // A request is decided by people the rule names; a door with no principal (the CLI) names none.
    if (!principal || !rule || !mayDecide(principal, rule, row.tenant)) throw new GatehouseError('GATEHOUSE_APPROVAL_NOT_ELIGIBLE', `${actor.id} on ${id}`);
    if (row.status !== 'pending') throw new GatehouseError('GATEHOUSE_APPROVAL_CLOSED', `${id} is ${row.status}`);
    if (principal.id === row.principal_id && row.self_approval !== 1) throw new GatehouseError('GATEHOUSE_APPROVAL_NOT_ELIGIBLE', `${actor.id} requested ${id}`);
    if (!(await repo.vote({ approval_id: id, approver: principal.id, decision, comment: comment ?? null, at: deps.now() }))) throw new GatehouseError('GATEHOUSE_APPROVAL_ALREADY_VOTED', `${actor.id} on ${id}`);
    const target = { kind: 'approval' as const, id };
    if (decision === 'deny') {
      const denied = await repo.transition(id, 'pending', 'denied', { finished_at: deps.now() });
      await recordChange(deps, actor, { action: 'approval.deny', target, tenant: row.tenant, changes: { comment: { before: null, after: comment }, ...(denied && { status: { before: 'pending', after: 'denied' } }) } });
      if (!denied) throw new GatehouseError('GATEHOUSE_APPROVAL_CLOSED', `${id} closed meanwhile`);
    } else {
      await recordChange(deps, actor, { action: 'approval.approve', target, tenant: row.tenant, changes: { comment: { before: null, after: comment ?? null } } });
      const approvals = (await repo.votes(id)).filter((v) => v.decision === 'approve' && (v.approver !== row.principal_id || row.self_approval === 1));
      if (approvals.length >= row.required) await execute(row);
    }
    return view((await repo.get(id))!);
  }

  return {
    consolePath,
    /**
     * Stores a call the rule holds (the hold-for-approval stage): who asked, in which tenant, the
     * engine's input for it, and the call exactly as MLflow would have received it, with its hash.
     */
    async hold(input: { readonly principal: Principal; readonly requestId: string; readonly tenant: string | undefined; readonly rule: ApprovalRule; readonly op: string; readonly access: AccessRequest; readonly call: HeldCall; readonly summary: CallSummary | undefined }): Promise<ApprovalView> {
      const { call, rule } = input;
      const now = deps.now();
      const row: StoredApproval = {
        id: randomUUID(),
        tenant: input.tenant ?? null,
        rule: rule.name,
        required: rule.required,
        self_approval: rule.selfApproval ? 1 : 0,
        principal_id: input.principal.id,
        principal: JSON.stringify(input.principal),
        op: input.op,
        access_request: JSON.stringify(input.access),
        method: call.method,
        path: call.path,
        headers: JSON.stringify(call.headers),
        body: call.body === undefined ? null : call.body.toString('base64'),
        body_hash: callHash(call),
        summary: JSON.stringify(input.summary ?? null),
        status: 'pending',
        created_at: now,
        expires_at: now + rule.expiresAfterMs,
        result_status: null,
        result_body: null,
        finished_at: null,
      };
      await repo.insert(row);
      await recordChange(deps, { id: input.principal.id, door: 'mlflow', principal: input.principal, requestId: input.requestId }, {
        action: 'approval.request',
        target: { kind: 'approval', id: row.id },
        tenant: row.tenant,
        changes: { status: { before: null, after: 'pending' }, rule: { before: null, after: rule.name }, op: { before: null, after: input.op }, bodyHash: { before: null, after: row.body_hash } },
      });
      return view(row);
    },

    /** Requests the actor may see: a platform administrator every one; others their own and those they may decide. */
    async list(actor: Actor, filter: { readonly status?: ApprovalStatus | undefined; readonly tenant?: string | undefined } = {}): Promise<ApprovalView[]> {
      const rows = await repo.list({ tenants: filter.tenant === undefined ? undefined : [filter.tenant] });
      const fresh = await Promise.all(rows.map(expireIfDue));
      const visible = fresh.filter((r) => (filter.status === undefined || r.status === filter.status) && mayView(actor, r));
      return Promise.all(visible.map(view));
    },

    async get(actor: Actor, id: string): Promise<ApprovalView> {
      const row = await load(id);
      if (!mayView(actor, row)) throw new GatehouseError('GATEHOUSE_APPROVAL_NOT_FOUND', id);
      return view(row);
    },

    /**
     * What the held call would change, read from MLflow now (the tenant's upstream, the stored
     * call's headers without its body's): for an alias move, the version the alias points to.
     */
    async current(actor: Actor, id: string): Promise<CurrentState> {
      const row = await load(id);
      if (!mayView(actor, row)) throw new GatehouseError('GATEHOUSE_APPROVAL_NOT_FOUND', id);
      const summary = JSON.parse(row.summary) as CallSummary | null;
      if (summary?.kind !== 'alias') return { state: 'unknown', reason: 'the held call names no alias' };
      const headers = Object.fromEntries(Object.entries(JSON.parse(row.headers) as Record<string, string | string[]>).filter(([k]) => !BODY_HEADERS.has(k.toLowerCase())));
      const query = new URLSearchParams({ name: summary.model, alias: summary.alias });
      let answer: { status: number; body: string };
      try {
        answer = await a.send(row.tenant, { method: 'GET', path: `/api/2.0/mlflow/registered-models/alias?${query}`, headers, body: undefined });
      } catch (err) {
        return { state: 'unknown', reason: err instanceof Error ? err.message : String(err) };
      }
      return aliasState(answer, summary.alias);
    },

    approve: (actor: Actor, id: string, comment?: string) => decideOn(actor, id, 'approve', comment),
    deny: (actor: Actor, id: string, comment: string | undefined) => decideOn(actor, id, 'deny', comment),
  };

  function mayView(actor: Actor, row: StoredApproval): boolean {
    const p = actor.principal;
    if (!p) return actor.door === 'cli';
    if (p.id === row.principal_id || isAdmin(a.policy(), p) !== undefined) return true;
    const rule = approversOf(row);
    return rule !== undefined && mayDecide(p, rule, row.tenant);
  }
}

/** Reads MLflow's answer to `GET registered-models/alias` (docs/mlflow-notes.md: a missing alias is a 400). */
export function aliasState(answer: { readonly status: number; readonly body: string }, alias: string): CurrentState {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return { state: 'unknown', reason: `MLflow answered ${answer.status} without JSON` };
  }
  const j = json as { model_version?: { version?: unknown }; error_code?: unknown; message?: unknown };
  if (answer.status === 200 && (typeof j.model_version?.version === 'string' || typeof j.model_version?.version === 'number')) return { state: 'set', version: String(j.model_version.version) };
  if (answer.status === 400 && j.error_code === 'INVALID_PARAMETER_VALUE' && j.message === `Registered model alias ${alias} not found.`) return { state: 'unset' };
  return { state: 'unknown', reason: `MLflow answered ${answer.status}${typeof j.error_code === 'string' ? ` ${j.error_code}` : ''}` };
}

export type ApprovalsService = ReturnType<typeof approvalsService>;
