/**
 * Audit events in the Open Cybersecurity Schema Framework, version 1.8.0, so a SIEM ingests them
 * without a parser of its own: every event — request or admin — is an API Activity event (class
 * 6003, category 6 Application Activity) with the Security Control profile (the gateway's
 * decision as `action_id` / `disposition_id`). The mapping, field by field, is in
 * docs/operations.md "OCSF"; test/audit/ocsf.test.ts checks it against the schema's facts.
 *
 * Admin events are API Activity too, not Account Change (3001): that class covers user accounts
 * only and requires the user changed, while admin events change tenants, groups, roles, grants,
 * tokens and sessions as well; one class keeps one audit trail in one SIEM query.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { AdminAuditEvent } from './admin-event.ts';
import type { ChainedEvent, RequestAuditEvent } from './event.ts';

export const OCSF_VERSION = '1.8.0';
const PRODUCT = {
  name: 'Gatehouse',
  vendor_name: 'Gatehouse',
  version: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
};

const ACTIVITY = { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' } as const;
type ActivityId = keyof typeof ACTIVITY;
const SEVERITY = { 1: 'Informational', 2: 'Low', 3: 'Medium' } as const;
const STATUS = { 1: 'Success', 2: 'Failure', 99: 'Other' } as const;
const ACTION = { 0: 'Unknown', 1: 'Allowed', 2: 'Denied' } as const;
const DISPOSITION = { 1: 'Allowed', 2: 'Blocked', 25: 'Rejected', 26: 'Unauthorized', 27: 'Error', 99: 'Other' } as const;

/** The activity of a verb (the last part of an operation id or admin action: `create`, `deleteTag`, `signIn`). */
function activityOf(verb: string, method?: string): ActivityId {
  if (method === 'GET' || method === 'HEAD' || /^(get|search|list)/.test(verb)) return 2;
  if (/^(create|upload|register|log|start|submit|add|signIn)/.test(verb)) return 1;
  if (/^(delete|remove|revoke|signOut)/.test(verb)) return 4;
  if (/^(set|update|restore|transition|rename|upsert|password|reload)/.test(verb)) return 3;
  return 99;
}

const verbOf = (id: string) => id.slice(id.lastIndexOf('.') + 1);
const endpoint = (address: string) => (isIP(address) ? { ip: address } : { name: address });

/** Fields every event has, from its class and its place in the chain. */
function common(e: ChainedEvent, activity: ActivityId, tenant: string | null, correlation: string | null) {
  return {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activity,
    activity_name: ACTIVITY[activity],
    type_uid: 600300 + activity,
    type_name: `API Activity: ${ACTIVITY[activity]}`,
    time: Date.parse(e.time),
    timezone_offset: 0,
    metadata: {
      version: OCSF_VERSION,
      product: PRODUCT,
      profiles: ['security_control'],
      log_name: 'audit',
      uid: e.hash,
      sequence: e.seq,
      original_time: e.time,
      ...(correlation !== null && { correlation_uid: correlation }),
      ...(tenant !== null && { tenant_uid: tenant }),
    },
  };
}

function requestEvent(e: RequestAuditEvent & ChainedEvent) {
  const activity = e.operation === null ? 99 : activityOf(verbOf(e.operation), e.method);
  const p = e.principal;
  const authn = e.error === 'GATEHOUSE_AUTHN_REQUIRED' || e.error === 'GATEHOUSE_AUTHN_INVALID';
  const disposition: keyof typeof DISPOSITION =
    e.outcome === 'allowed' || e.outcome === 'pending' ? 1 : e.outcome === 'denied' ? (authn ? 26 : 2) : e.outcome === 'malformed' ? 25 : e.outcome === 'failed' ? 27 : 99;
  const action: keyof typeof ACTION = e.decision ? (e.decision.effect === 'allow' ? 1 : 2) : e.outcome === 'denied' || e.outcome === 'malformed' ? 2 : 0;
  const severity: keyof typeof SEVERITY = e.outcome === 'denied' || e.outcome === 'malformed' ? 3 : e.outcome === 'failed' ? 2 : 1;
  const status: keyof typeof STATUS = e.outcome === 'pending' ? 99 : e.outcome === 'allowed' && (e.status ?? 500) < 400 ? 1 : 2;
  return {
    ...common(e, activity, e.tenant, e.requestId),
    severity_id: severity,
    severity: SEVERITY[severity],
    status_id: status,
    status: e.outcome === 'pending' ? 'Pending' : STATUS[status],
    ...(e.error !== null && { status_code: e.error }),
    ...(e.decision && e.decision.reasons.length > 0 && { status_detail: e.decision.reasons.join(', ') }),
    action_id: action,
    action: ACTION[action],
    disposition_id: disposition,
    disposition: e.outcome === 'aborted' ? 'Aborted' : DISPOSITION[disposition],
    message: `${e.operation ?? 'unmatched route'} ${e.outcome}${e.status !== null ? ` (${e.status})` : ''}`,
    duration: Math.round(e.latencyMs),
    actor: {
      user: p ? { uid: p.id, name: p.id.slice(p.id.indexOf(':') + 1), type_id: p.kind === 'service_account' ? 4 : 1, type: p.kind === 'service_account' ? 'Service' : 'User' } : { name: 'anonymous', type_id: 0, type: 'Unknown' },
      ...(p && { idp: { name: p.provider } }),
      ...(e.decision && { authorizations: e.decision.reasons.map((r) => ({ decision: e.decision!.effect, policy: { name: r } })) }),
    },
    api: {
      operation: e.operation ?? '_unmatched',
      request: { uid: e.requestId },
      service: { name: 'MLflow' },
      ...(e.error !== null && { response: { error: e.error } }),
    },
    src_endpoint: endpoint(e.client.address),
    http_request: { http_method: e.method, uid: e.requestId, ...(e.client.userAgent !== null && { user_agent: e.client.userAgent }) },
    ...(e.status !== null && { http_response: { code: e.status } }),
    ...(e.resources.length > 0 && { resources: e.resources.map((r) => ({ type: r.kind, uid: r.id, data: r.key })) }),
    unmapped: {
      gatehouse: {
        v: e.v,
        phase: e.phase,
        outcome: e.outcome,
        action: e.action,
        upstreamStatus: e.upstreamStatus,
        latencyMs: e.latencyMs,
        seq: e.seq,
        prev: e.prev,
        hash: e.hash,
        ...(e.detail !== undefined && { detail: e.detail }),
      },
    },
  };
}

function adminEvent(e: AdminAuditEvent & ChainedEvent) {
  const activity = activityOf(verbOf(e.action));
  const denied = e.outcome === 'denied';
  return {
    ...common(e, activity, e.tenant, e.requestId),
    severity_id: denied ? 3 : 1,
    severity: denied ? SEVERITY[3] : SEVERITY[1],
    status_id: denied ? 2 : 1,
    status: denied ? STATUS[2] : STATUS[1],
    ...(e.reason !== null && { status_detail: e.reason }),
    action_id: denied ? 2 : 1,
    action: denied ? ACTION[2] : ACTION[1],
    disposition_id: denied ? 26 : 1,
    disposition: denied ? DISPOSITION[26] : DISPOSITION[1],
    message: `${e.action} ${e.target.kind}:${e.target.id} ${e.outcome} (${e.door})`,
    actor: {
      user: { uid: e.actor.id, name: e.actor.id.slice(e.actor.id.indexOf(':') + 1), ...(e.actor.kind === 'service_account' ? { type_id: 4, type: 'Service' } : e.actor.kind === 'user' ? { type_id: 1, type: 'User' } : {}) },
      ...(e.actor.provider !== undefined && { idp: { name: e.actor.provider } }),
    },
    api: {
      operation: e.action,
      ...(e.requestId !== null && { request: { uid: e.requestId } }),
      service: { name: 'Gatehouse' },
    },
    // The CLI and a configuration reload have no network peer: the endpoint is named for the door.
    src_endpoint: e.client ? endpoint(e.client.address) : { name: `gatehouse-${e.door}` },
    ...(e.client?.userAgent != null && { http_request: { user_agent: e.client.userAgent } }),
    resources: [{ type: e.target.kind, uid: e.target.id }],
    unmapped: { gatehouse: { v: e.v, type: 'admin', door: e.door, changes: e.changes, seq: e.seq, prev: e.prev, hash: e.hash } },
  };
}

export type OcsfEvent = ReturnType<typeof requestEvent> | ReturnType<typeof adminEvent>;

export function toOcsf(e: ChainedEvent): OcsfEvent {
  return e.type === 'admin' ? adminEvent(e) : requestEvent(e as RequestAuditEvent & ChainedEvent);
}
