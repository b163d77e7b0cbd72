/**
 * Turns a verified token payload into a principal with the issuer's claim mapping. A
 * client-credentials token (RFC 6749 §4.4: `sub` is the client itself, RFC 9068 §2.2) or one
 * without any email or name claim belongs to a machine: a first-class service account.
 */
import type { JWTPayload } from 'jose';
import { compileListClaim, listClaim, stringClaim, type ClaimMapping } from './claims.ts';
import type { Principal } from './principal.ts';

export interface MappingConfig {
  readonly id: string;
  readonly claims: ClaimMapping;
  readonly serviceAccount: 'auto' | 'always' | 'never';
  readonly admin: { readonly groups: readonly string[]; readonly roles: readonly string[] };
}

export function compileMapping(config: MappingConfig): (payload: JWTPayload) => Principal | undefined {
  const { claims } = config;
  const groups = compileListClaim(claims.groups ?? 'groups');
  const roles = compileListClaim(claims.roles);
  const tenants = compileListClaim(claims.tenants);
  const adminGroups = new Set(config.admin.groups);
  const adminRoles = new Set(config.admin.roles);

  return (payload) => {
    const subject = stringClaim(payload, claims.subject);
    if (subject === undefined) return undefined;
    const username = claims.username.map((p) => stringClaim(payload, p)).find((v) => v !== undefined);
    const email = stringClaim(payload, claims.email);
    const principalGroups = listClaim(payload, groups);
    const principalRoles = listClaim(payload, roles);
    return {
      id: `${config.id}:${subject}`,
      kind: isServiceAccount(config.serviceAccount, payload, subject, username, email) ? 'service_account' : 'user',
      name: username ?? subject,
      ...(email !== undefined && { email }),
      groups: principalGroups,
      tenants: listClaim(payload, tenants),
      roles: principalRoles,
      admin: principalGroups.some((g) => adminGroups.has(g)) || principalRoles.some((r) => adminRoles.has(r)),
      method: 'oidc',
      provider: config.id,
    };
  };
}

function isServiceAccount(
  mode: MappingConfig['serviceAccount'],
  payload: JWTPayload,
  subject: string,
  username: string | undefined,
  email: string | undefined,
): boolean {
  if (mode !== 'auto') return mode === 'always';
  const client = stringClaim(payload, 'client_id') ?? stringClaim(payload, 'azp');
  if (client !== undefined && client === subject) return true;
  return email === undefined && username === undefined && stringClaim(payload, 'name') === undefined;
}
