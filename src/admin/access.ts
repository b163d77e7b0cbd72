/**
 * "Who can access this?" — for one experiment or registered model in one tenant, every
 * principal and group with effective access, and why. Each candidate is put to the same engine
 * the gateway uses (policy/engine.ts `decide`) at each MLflow level, so the answer is what the
 * gateway would do, not a second reading of the rules. Candidates come from the policy
 * snapshot (grant subjects, tenant members, local groups), the store's platform administrators,
 * the resource's creator (ownership) and the tenant's default role.
 *
 * Not enumerable, so not listed: groups, roles and tenants asserted only by an identity provider
 * for people the gateway has no record of (the response says so in `notes`).
 */
import { z } from 'zod';
import { bindingsFor, decide } from '../policy/engine.ts';
import { levelRequest } from '../policy/access-request.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import { ownershipRepository } from '../store/ownership.ts';
import type { AdminDeps } from './deps.ts';
import { localAccountProviders } from '../identity/providers.ts';
import { describedPrincipal } from '../identity/local-names.ts';
import { callerError } from '../errors.ts';
import { invalid, notFound, route, type RouteSpec } from './http.ts';
import { parseAnswer } from '../upstream/upstream.ts';
import { globMatch } from '../lib/glob.ts';
import type { Check } from '../model/access.ts';
import { REASONS, type ReasonId } from '../model/decision.ts';
import { LEVELS, type Level } from '../model/permission.ts';
import type { Binding } from '../model/policy.ts';
import type { Principal } from '../model/principal.ts';
import type { Anchors, Family } from '../model/resource.ts';

const accessQuery = z
  .strictObject({
    experiment_id: z.string().regex(/^\d+$/, 'an experiment id (digits)').optional(),
    registered_model: z.string().min(1).max(1024).optional().describe('Registered model (or prompt) name.'),
    tenant: z.string().optional().describe('Default: the default tenant (or the only one).'),
  })
  .refine((q) => (q.experiment_id === undefined) !== (q.registered_model === undefined), { message: 'exactly one of experiment_id, registered_model', path: ['experiment_id'] });

type SubjectKind = 'user' | 'group' | 'service_account' | 'tenant-members';

interface Candidate {
  readonly subject: { readonly kind: SubjectKind; readonly name: string };
  readonly principal: Principal;
  readonly owner?: string;
  readonly storeAdmin?: boolean;
}

const NEEDS: readonly [Check['need'], Level][] = [
  ['read', 'READ'],
  ['use', 'USE'],
  ['edit', 'EDIT'],
  ['manage', 'MANAGE'],
];

function synthetic(id: string, kind: Principal['kind'], name: string, extra: Partial<Principal> = {}): Principal {
  return { id, kind, name, groups: [], tenants: [], roles: [], admin: false, method: 'access-check', provider: 'access-check', ...extra };
}

/**
 * A creator's principal id → how the policy names it: a local user or service account
 * (`local:alice`, `token:alice`, `token:sa:ci`) by its local name, anyone else by the id itself.
 */
function fromPrincipalId(id: string, localProviders: readonly string[]): { ref: string; kind: Principal['kind'] } {
  const provider = id.slice(0, id.indexOf(':'));
  const rest = id.slice(id.indexOf(':') + 1);
  if (!localProviders.includes(provider)) return { ref: id, kind: 'user' };
  return rest.startsWith('sa:') ? { ref: rest.slice(3), kind: 'service_account' } : { ref: rest, kind: 'user' };
}

function covers(b: Binding, family: Family, tenant: string, anchors: Anchors): boolean {
  const s = b.scope;
  if (s.kind === 'global') return true;
  if (s.kind === 'tenant') return s.tenant === tenant;
  if (s.tenant !== undefined && s.tenant !== tenant) return false;
  if (s.kind === 'experiment') {
    if (family !== 'experiment') return false;
    if (s.id !== undefined) return anchors.experimentIds?.includes(s.id) ?? false;
    return (anchors.experimentNames ?? []).some((n) => globMatch(s.namePattern ?? '', n));
  }
  if (family !== 'model') return false;
  return (anchors.modelNames ?? []).some((n) => (s.name !== undefined ? n === s.name : globMatch(s.namePattern ?? '', n)));
}

export function accessRoutes(deps: AdminDeps): RouteSpec[] {
  const owners = ownershipRepository(deps.store.db);

  async function experimentName(tenant: string, id: string): Promise<string | undefined> {
    const headers: Record<string, string> = {};
    const workspace = await deps.upstreams.workspaceHeader(tenant);
    if (workspace !== undefined) headers['x-mlflow-workspace'] = workspace;
    const r = await deps.upstreams.forTenant(tenant).get(`/api/2.0/mlflow/experiments/get?experiment_id=${encodeURIComponent(id)}`, headers);
    if (r.status === 404) throw notFound(`experiment ${id} in tenant ${tenant}`);
    if (r.status !== 200) throw callerError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `MLflow answered ${r.status} when asked for experiment ${id}`);
    const name = (parseAnswer(r.body, `experiment ${id}`, 'GATEHOUSE_RESOURCE_UNRESOLVABLE') as { experiment?: { name?: unknown } } | null)?.experiment?.name;
    return typeof name === 'string' ? name : undefined;
  }

  const localProviders = localAccountProviders(deps.config.auth.providers);

  function candidates(snapshot: PolicySnapshot, tenant: string, storeAdmins: readonly string[], owner: string | undefined): Candidate[] {
    const out = new Map<string, Candidate>();
    const add = (c: Candidate) => {
      const key = `${c.subject.kind}:${c.subject.name}`;
      if (!out.has(key) || c.owner !== undefined) out.set(key, c);
    };
    const described = (ref: string, kind: Principal['kind'], extra: Partial<Principal> = {}) => describedPrincipal(ref, { kind, method: 'access-check', provider: 'access-check', ...extra });
    const user = (name: string) => add({ subject: { kind: 'user', name }, principal: described(name, 'user', { admin: storeAdmins.includes(name) }), storeAdmin: storeAdmins.includes(name) });
    const group = (name: string) => add({ subject: { kind: 'group', name }, principal: synthetic(`access:group:${name}`, 'user', `\u0000group:${name}`, { groups: [name] }) });
    for (const b of snapshot.bindings) {
      if ('user' in b.subject) user(b.subject.user);
      else if ('group' in b.subject) group(b.subject.group);
      else add({ subject: { kind: 'service_account', name: b.subject.serviceAccount }, principal: described(b.subject.serviceAccount, 'service_account') });
    }
    const t = snapshot.tenants.get(tenant)!;
    t.members.users.forEach(user);
    t.members.groups.forEach(group);
    for (const [member, groups] of snapshot.groupsOf) {
      user(member);
      groups.forEach(group);
    }
    storeAdmins.forEach(user);
    if (owner !== undefined) {
      const { ref, kind } = fromPrincipalId(owner, localProviders);
      const subject = { kind: kind === 'service_account' ? ('service_account' as const) : ('user' as const), name: ref };
      // The owner's own id: ownership is recorded (and looked up) by principal id.
      add({ subject, principal: { ...described(ref, kind, { admin: kind === 'user' && storeAdmins.includes(ref) }), id: owner }, owner, storeAdmin: storeAdmins.includes(ref) });
    }
    if (t.defaultRole) add({ subject: { kind: 'tenant-members', name: tenant }, principal: synthetic(`access:members:${tenant}`, 'user', `\u0000members:${tenant}`, { tenants: [tenant] }) });
    return [...out.values()];
  }

  return [
    route({
      method: 'GET', path: '/access', tag: 'policy', access: 'admin', query: accessQuery,
      summary: 'Who can access this experiment or registered model, at which level, and why',
      handler: async ({ query }) => {
        const snapshot = deps.policy();
        const only = snapshot.tenantOrder.length === 1 ? snapshot.tenantOrder[0] : undefined;
        const tenant = query.tenant ?? snapshot.defaultTenant ?? only;
        if (tenant === undefined) throw invalid('tenant', 'required: there are several tenants and no default');
        if (!snapshot.tenants.has(tenant)) throw invalid('tenant', `no tenant ${tenant}`);
        const family: Family = query.experiment_id !== undefined ? 'experiment' : 'model';
        const name = query.experiment_id !== undefined ? await experimentName(tenant, query.experiment_id) : undefined;
        const anchors: Anchors =
          query.experiment_id !== undefined ? { experimentIds: [query.experiment_id], ...(name !== undefined && { experimentNames: [name] }) } : { modelNames: [query.registered_model!] };
        const owned = await owners.ownerOf(tenant, family === 'experiment' ? 'experiment' : 'registered_model', query.experiment_id ?? query.registered_model!);
        const ownedScope = family === 'experiment' ? { kind: 'experiment' as const, tenant, id: query.experiment_id! } : { kind: 'model' as const, tenant, name: query.registered_model! };
        const storeAdmins = (await deps.store.listUsers()).filter((u) => u.admin && !u.disabled).map((u) => u.username);

        const entries = candidates(snapshot, tenant, storeAdmins, owned?.principalId).flatMap((c) => {
          let level: Level = 'NO_PERMISSIONS';
          let reasons: readonly ReasonId[] = [];
          let matched: readonly string[] = [];
          let denied = false;
          for (const [need, lvl] of NEEDS) {
            const d = decide(snapshot, c.principal, levelRequest('access.check', family, need, anchors, tenant, c.owner !== undefined ? [ownedScope] : []));
            if (d.effect === 'allow') [level, reasons, matched] = [lvl, d.reasons, d.matchedBindings];
            else if (level === 'NO_PERMISSIONS' && d.reasons.includes('explicit-deny')) [denied, reasons, matched] = [true, d.reasons, d.matchedBindings];
            if (d.effect === 'deny') break;
          }
          const why = bindingsFor(snapshot, c.principal)
            .filter((b) => covers(b, family, tenant, anchors))
            .map((b) => {
              const role = snapshot.roles.get(b.role);
              return {
                id: b.id,
                role: b.role,
                effect: b.effect,
                source: b.source,
                scope: b.scope,
                subject: b.subject,
                level: role?.levels[family] ?? (role?.admin ? 'MANAGE' : 'NO_PERMISSIONS'),
              };
            });
          if (level === 'NO_PERMISSIONS' && !denied) return [];
          return [
            {
              subject: c.subject,
              level,
              effect: denied && level === 'NO_PERMISSIONS' ? 'deny' : 'allow',
              reasons: reasons.map((r) => ({ id: r, text: REASONS[r] })),
              decidingBindings: matched,
              bindings: why,
              ...(c.owner !== undefined && { creator: c.owner }),
              ...(reasons.includes('platform-admin') && { platformAdmin: c.storeAdmin ? 'store' : 'binding' }),
              ...(reasons.includes('tenant-default-role') && { defaultRole: snapshot.tenants.get(tenant)!.defaultRole }),
            },
          ];
        });
        const rank = (l: string) => LEVELS.indexOf(l as Level);
        entries.sort((a, b) => rank(b.level) - rank(a.level) || a.subject.kind.localeCompare(b.subject.kind) || a.subject.name.localeCompare(b.subject.name));
        return {
          resource: family === 'experiment' ? { type: 'experiment', tenant, experimentId: query.experiment_id, experimentName: name ?? null } : { type: 'registered_model', tenant, name: query.registered_model },
          entries,
          notes: [
            'Users and groups known only to an identity provider (IdP groups, IdP-asserted tenants or roles) are not listed unless the policy names them.',
            'A creator holds MANAGE only under the identity it created the resource with (creator is that principal id).',
          ],
        };
      },
    }),
  ];
}
