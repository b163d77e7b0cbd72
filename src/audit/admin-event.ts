/**
 * The admin audit event: one per change to who may do what, whatever door it came through (admin
 * API, console, CLI, MLflow-compatible API, configuration reload), and one per sign-in, sign-out
 * and failed sign-in. It shares the hash chain and the sinks with request events (event.ts); `type`
 * tells them apart.
 *
 * Never a secret: `changes` is made by `changesOf`, which records a secret field (a password, a
 * token's secret, a hash) only as whether it is set or was changed, never its value.
 */
import { escapeText } from '../lib/escape-text.ts';

/** Where a change came from. `console` is the admin API called with the console's session cookie; `scim` the SCIM 2.0 service provider (src/scim/). */
/** `mlflow`: an MLflow call through the gateway (a call held for approval). */
export type Door = 'api' | 'console' | 'cli' | 'compat' | 'config' | 'login' | 'scim' | 'mlflow';

export type AdminTargetKind = 'user' | 'service_account' | 'token' | 'tenant' | 'group' | 'role' | 'grant' | 'session' | 'config' | 'scim_token' | 'approval';

export const ADMIN_TARGET_KINDS: readonly AdminTargetKind[] = ['user', 'service_account', 'token', 'tenant', 'group', 'role', 'grant', 'session', 'config', 'scim_token'];
export const DOORS: readonly Door[] = ['api', 'console', 'cli', 'compat', 'config', 'login', 'scim'];

/** Who made the change: a principal (its id, as in request events), `cli:<os user>`, or `config`. */
export interface AdminActor {
  readonly id: string;
  readonly kind?: string;
  readonly provider?: string;
  readonly method?: string;
}

/** One field's value before and after the change (null: absent). */
export interface FieldChange {
  readonly before: unknown;
  readonly after: unknown;
}

export interface AdminAuditEvent {
  /** Event format version. */
  readonly v: 1;
  readonly type: 'admin';
  /** ISO 8601 time the event was built. */
  readonly time: string;
  /** The X-Request-ID of the HTTP call that made the change; null for the CLI and config reloads. */
  readonly requestId: string | null;
  readonly door: Door;
  readonly actor: AdminActor;
  /** `<noun>.<verb>`: `user.create`, `grant.delete`, `session.signIn`, `config.reload`, ... */
  readonly action: string;
  readonly target: { readonly kind: AdminTargetKind; readonly id: string };
  /** The tenant the change is about, if one (tenant, tenant member, grant in a tenant, token narrowed to one). */
  readonly tenant: string | null;
  /** Field by field; a secret only as `[set]` / `[changed]` / null. */
  readonly changes: Readonly<Record<string, FieldChange>>;
  /** `allowed` for a change made; `denied` for a refused sign-in (with `reason`). */
  readonly outcome: 'allowed' | 'denied';
  /** Why a sign-in was refused (the identity provider's reason id). */
  readonly reason: string | null;
  /** The HTTP client, for changes made over HTTP. */
  readonly client: { readonly address: string; readonly userAgent: string | null } | null;
}

/** Field names whose values are never recorded, wherever they appear in `before` or `after`. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['password', 'passwordHash', 'password_hash', 'secret', 'secretHash', 'secret_hash', 'token', 'hash', 'idToken']);

export const SECRET_SET = '[set]';
export const SECRET_CHANGED = '[changed]';

type Fields = Readonly<Record<string, unknown>> | null;

/**
 * The fields that differ between `before` and `after` (null: the thing did not exist / no longer
 * does). Values are compared as JSON. A secret field is recorded as `[set]` (or `[changed]` when
 * it was set before and after), never its value.
 */
export function changesOf(before: Fields, after: Fields): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const key of keys) {
    const b = before?.[key] ?? null;
    const a = after?.[key] ?? null;
    if (SECRET_FIELDS.has(key)) {
      if (a === null && b === null) continue;
      const changed = a !== null && b !== null && a !== b;
      if (a === b) continue;
      out[key] = { before: b === null ? null : SECRET_SET, after: a === null ? null : changed ? SECRET_CHANGED : SECRET_SET };
      continue;
    }
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    out[key] = { before: scrub(b), after: scrub(a) };
  }
  return out;
}

/** Nested values keep no secret either. */
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? (v === null || v === undefined ? null : SECRET_SET) : scrub(v)]));
}

export interface AdminEventInput {
  readonly door: Door;
  readonly actor: AdminActor;
  readonly action: string;
  readonly target: { readonly kind: AdminTargetKind; readonly id: string };
  readonly tenant?: string | null | undefined;
  readonly changes: Readonly<Record<string, FieldChange>>;
  readonly outcome?: 'allowed' | 'denied';
  readonly reason?: string | undefined;
  readonly requestId?: string | null | undefined;
  readonly client?: { readonly address: string; readonly userAgent: string | undefined } | null | undefined;
}

export function buildAdminEvent(input: AdminEventInput, now: Date, userAgentMaxLength = 256): AdminAuditEvent {
  return {
    v: 1,
    type: 'admin',
    time: now.toISOString(),
    requestId: input.requestId ?? null,
    door: input.door,
    actor: input.actor,
    action: input.action,
    target: { kind: input.target.kind, id: escapeText(input.target.id, 512) },
    tenant: input.tenant ?? null,
    changes: input.changes,
    outcome: input.outcome ?? 'allowed',
    reason: input.reason ?? null,
    client: input.client ? { address: input.client.address, userAgent: input.client.userAgent === undefined ? null : escapeText(input.client.userAgent, userAgentMaxLength) } : null,
  };
}
