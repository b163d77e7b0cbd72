/**
 * `POST /policy/explain`: can principal P do operation O on resource R in tenant T, and why —
 * the same function as `gatehouse policy explain` (src/policy/explain.ts), over the policy in
 * force. `GET /me`: the caller's own principal, tenants and effective roles.
 */
import { z } from 'zod';
import { bindingsFor, groupsOf, isAdmin, tenantsOf } from '../policy/engine.ts';
import { explain } from '../policy/explain.ts';
import { tenancyMode } from '../tenancy/index.ts';
import { assertedLocalName } from '../identity/providers.ts';
import type { AdminDeps } from './deps.ts';
import { invalid, route, type RouteSpec } from './http.ts';
import { REASONS } from '../model/decision.ts';

const explainBody = z.strictObject({
  principal: z
    .string()
    .min(1)
    .max(1024)
    .describe('The principal: `<provider id>:<subject>` (its id, as in the audit log), or a local user or service account name.'),
  name: z.string().optional().describe("With an identity: the user name its provider asserts; counts only where that provider has `assertsLocalNames`."),
  serviceAccount: z.boolean().default(false),
  groups: z.array(z.string()).default([]).describe('Groups the identity provider would assert.'),
  admin: z.boolean().optional().describe("Platform administrator as the IdP would assert it; default: a local user's flag."),
  op: z.string().min(1).describe('Operation id (docs/routes.md), e.g. runs.logMetric.'),
  tenant: z.string().optional().describe("Default: the principal's default tenant."),
  experimentId: z.string().optional(),
  experimentName: z.string().optional().describe('For name-pattern grants.'),
  model: z.string().optional().describe('Registered model or prompt name.'),
});

export function policyRoutes(deps: AdminDeps): RouteSpec[] {
  return [
    route({
      method: 'POST', path: '/policy/explain', tag: 'policy', access: 'admin', body: explainBody,
      summary: "The engine's decision for a principal, operation, tenant and resources, with reasons and the bindings that decided",
      response: z.object({ effect: z.enum(['allow', 'deny']), reasons: z.array(z.string()), matchedBindings: z.array(z.string()), bindings: z.array(z.unknown()), approvals: z.array(z.unknown()) }),
      handler: async ({ body }) => {
        const admin = body.admin ?? (body.serviceAccount ? false : ((await deps.store.findUserByName(body.principal))?.admin ?? false));
        const result = explain(deps.policy(), { ...body, admin, localName: assertedLocalName(deps.config.auth, body.principal, body.name) }, tenancyMode(deps.config.tenancy), deps.config.approvals.rules);
        if (!result) throw invalid('op', `unknown operation ${body.op} (see docs/routes.md)`);
        return { ...result, reasonText: Object.fromEntries(result.reasons.map((r) => [r, REASONS[r]])) };
      },
    }),
    route({
      method: 'GET', path: '/me', tag: 'me', access: 'self', summary: 'My principal, tenants and effective roles',
      handler: async ({ principal }) => {
        const snapshot = deps.policy();
        const tenants = tenantsOf(snapshot, principal);
        const admin = isAdmin(snapshot, principal) !== undefined;
        const roles = [
          ...(admin ? [{ role: 'admin', scope: { kind: 'global' }, via: 'platform-admin' }] : []),
          ...bindingsFor(snapshot, principal).map((b) => ({ role: b.role, effect: b.effect, scope: b.scope, via: 'role-binding', binding: b.id, subject: b.subject })),
          ...principal.roles.map((r) => ({ role: r, scope: principal.tenants.length > 0 ? { kind: 'tenants', tenants: principal.tenants } : { kind: 'global' }, via: 'idp-role' })),
          ...tenants.flatMap((t) => {
            const role = snapshot.tenants.get(t)?.defaultRole;
            return role ? [{ role, scope: { kind: 'tenant', tenant: t }, via: 'tenant-default-role' }] : [];
          }),
        ];
        const { id, kind, name, localName, email, provider, method, restrict } = principal;
        return {
          principal: { id, kind, name, ...(localName !== undefined && { localName }), ...(email !== undefined && { email }), groups: groupsOf(snapshot, principal), provider, method, ...(restrict && { restrict }) },
          admin,
          tenants,
          defaultTenant: snapshot.defaultTenant && tenants.includes(snapshot.defaultTenant) ? snapshot.defaultTenant : (tenants[0] ?? null),
          roles,
        };
      },
    }),
  ];
}
