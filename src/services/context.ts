/**
 * What every service shares: who is acting and through which door (the actor), what a service is
 * given by the process it runs in (the gateway or the CLI), and the three rules no door may skip —
 * a declared (configuration file) entry is changed only in that file, a policy change is announced
 * so every gateway follows, and every change is one admin audit event.
 */
import { userInfo } from 'node:os';
import { buildAdminEvent, type AdminAuditEvent, type AdminEventInput, type Door } from '../audit/admin-event.ts';
import type { ScryptParams } from '../identity/password.ts';
import { mergeSources } from '../policy/service.ts';
import { buildSnapshot, type PolicySnapshot, type PolicySources } from '../policy/snapshot.ts';
import type { ScimLink } from '../scim/config.ts';
import { policyRepository, type PolicyRepository, type StoredPolicy } from '../store/policy.ts';
import type { Store } from '../store/store.ts';
import type { Workspaces } from './workspaces.ts';
import type { Principal } from '../model/principal.ts';
import { callerError, GatehouseError } from '../errors.ts';

/** Who makes a change, through which door, and (over HTTP) in which request from where. */
export interface Actor {
  /** A principal id (`local:alice`), `cli:<os user>` or `config`. */
  readonly id: string;
  readonly door: Door;
  /** The authenticated caller (HTTP doors); self-service rules read it. */
  readonly principal?: Principal;
  readonly requestId?: string;
  readonly client?: { readonly address: string; readonly userAgent: string | undefined };
}

export function principalActor(principal: Principal, door: Door, http?: Pick<Actor, 'requestId' | 'client'>): Actor {
  return { id: principal.id, door, principal, ...http };
}

/** The CLI acts as the operating-system user running it (not a claim anyone passes in). */
export const cliActor = (): Actor => ({ id: `cli:${userInfo().username}`, door: 'cli' });
export const CONFIG_ACTOR: Actor = { id: 'config', door: 'config' };

/** The identity providers whose principals the services create or end (from `auth.providers`). */
export interface ProviderIds {
  /** Providers of type `local`: passwords of local users. */
  readonly local: readonly string[];
  /** Providers of type `token`: API tokens of local users and service accounts. */
  readonly token: readonly string[];
  /** Hashing parameters for new passwords (the first local provider's); undefined without one. */
  readonly scrypt: ScryptParams | undefined;
  /** Providers (any kind) configured with `link: subject`: their identities may be linked to local users. */
  readonly linkBySubject?: readonly string[];
  /** `scim.identityProvider`: the SCIM door links each SCIM user to that provider's identity of it. */
  readonly scimLink?: ScimLink;
}

/** The provider ids of `auth.providers` that matter to the services. */
export function providerIdsOf(providers: readonly { readonly type: string; readonly id: string; readonly scrypt?: ScryptParams }[]): ProviderIds {
  return {
    local: providers.flatMap((p) => (p.type === 'local' ? [p.id] : [])),
    token: providers.flatMap((p) => (p.type === 'token' ? [p.id] : [])),
    scrypt: providers.find((p) => p.type === 'local')?.scrypt,
  };
}

export interface ServiceDeps {
  readonly store: Store;
  /** Records one admin event: the gateway's auditor, or the CLI's journal (src/audit/journal.ts). */
  readonly record: (event: AdminAuditEvent) => Promise<void>;
  /** The declared (configuration file) policy in force. */
  readonly declared: () => PolicySources;
  /** The configuration file, named in refusals to change what it declares; undefined without one. */
  readonly configFile: string | undefined;
  /** After a policy change: this process reloads now; other processes hear of it (bus) or poll. */
  readonly policyChanged: () => Promise<void>;
  /** After a user's or service account's password, flags or existence changed: credential caches forget it, here and elsewhere. */
  readonly principalChanged: (name: string) => Promise<void>;
  readonly providers: ProviderIds;
  /** The MLflow workspaces behind the gateway (workspace tenancy); undefined in tag and instance tenancy. */
  readonly workspaces: Workspaces | undefined;
  /** Milliseconds clock. */
  readonly now: () => number;
  readonly userAgentMaxLength?: number;
}

/** The stored policy, the declared one, and the two merged as the engine sees them. */
export interface PolicyView {
  readonly repo: PolicyRepository;
  readonly stored: StoredPolicy;
  readonly declared: PolicySources;
  snapshot(): PolicySnapshot;
}

export async function policyView(deps: ServiceDeps, store: Store = deps.store): Promise<PolicyView> {
  const repo = policyRepository(store.db);
  const stored = await repo.load();
  const declared = deps.declared();
  let snapshot: PolicySnapshot | undefined;
  return { repo, stored, declared, snapshot: () => (snapshot ??= buildSnapshot(mergeSources(declared, stored))) };
}

/** The refusal for a change to what the configuration file declares. */
export function declaredEntry(deps: ServiceDeps, what: string): GatehouseError {
  const where = deps.configFile !== undefined ? `the configuration file ${deps.configFile}` : 'the configuration (no file: built-in defaults and GATEHOUSE_* variables)';
  return callerError('GATEHOUSE_ADMIN_DECLARED', `${what} is declared in ${where} (source: config); change it there`);
}

/** The admin event of a change by `actor`. */
export function adminEventOf(deps: ServiceDeps, actor: Actor, input: Omit<AdminEventInput, 'door' | 'actor' | 'requestId' | 'client'>): AdminAuditEvent {
  const { principal, door, requestId, client, id } = actor;
  const who = principal ? { id, kind: principal.kind, provider: principal.provider, method: principal.method } : { id };
  return buildAdminEvent({ ...input, door, actor: who, requestId, client }, new Date(deps.now()), deps.userAgentMaxLength);
}

/** Records the one admin event of a change. */
export function recordChange(deps: ServiceDeps, actor: Actor, input: Omit<AdminEventInput, 'door' | 'actor' | 'requestId' | 'client'>): Promise<void> {
  return deps.record(adminEventOf(deps, actor, input));
}
