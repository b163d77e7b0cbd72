/** A policy decision is data: the log line, the audit event and `policy explain` use the same reason ids. */
export const REASONS = {
  'public-route': 'the route needs no authentication (health, static UI assets)',
  'route-denied': 'Gatehouse disables this MLflow route for everyone',
  unauthenticated: 'no principal',
  'explicit-deny': 'a deny binding covers the request',
  'platform-admin': 'the principal is a platform administrator',
  'admin-only': 'the route is for platform administrators only',
  'authenticated-route': 'any authenticated principal may call this route',
  'no-tenant': 'the principal belongs to no tenant',
  'not-member': 'the principal is not a member of the tenant it asked for',
  'tenant-member': 'members may see their own workspace',
  'role-binding': 'a role binding grants what the call needs',
  'idp-role': 'a role asserted by the identity provider grants what the call needs',
  'tenant-default-role': "the tenant's default role grants what the call needs",
  owner: 'the principal created the experiment or registered model (creators get MANAGE)',
  'no-grant': 'no role the principal holds grants what the call needs',
  'filtered-search': 'the search is answered with only the experiments or models the principal may read',
  'foreign-tenant': "tag mode: a resource the call names carries another tenant's tag, or none (answered as not found)",
  'tag-unsupported': 'tag mode: the call names no experiment or registered model whose tenant tag could be checked',
  'unresolvable-resource': 'a resource the call names could not be resolved',
  'dev-allow-all': 'authorization.mode is dev-allow-all',
  // Refusals before (or instead of) the engine's decision: src/errors.ts names each code's reason.
  'foreign-origin': 'a state-changing browser request came from another origin',
  'unknown-route': 'the gateway exposes no such MLflow route',
  'invalid-credentials': 'the credentials sent are not valid',
  'linked-user-disabled': 'a sign-in linked to a local user (link: subject or email) that is disabled',
  'identity-not-provisioned': 'a sign-in of scim.identityProvider (requireProvisioned) that no user is linked to: never provisioned, or deleted',
  'bearer-not-accepted': 'a bearer token of a kind no enabled identity provider accepts',
  'no-token-provider': 'a Gatehouse API token (gth_), but auth.providers has no token provider',
  'no-jwt-provider': 'a bearer JWT, but auth.providers has no oidc provider',
  'untrusted-issuer': 'a bearer JWT whose issuer no oidc provider trusts',
  'opaque-bearer': 'an opaque bearer token (neither gth_ nor a JWT) that no provider introspects',
  'rate-limited': 'the principal or client address is over its rate limit',
  'graphql-unsupported': 'the GraphQL document selects a field the gateway cannot check',
  'artifact-location': 'only platform administrators may choose an experiment\'s artifact_location',
  'tenant-tag': 'tag mode: only platform administrators may set, change or delete the tenant tag',
  'approval-required': 'an approval rule holds the call until approvers decide; nothing was sent to MLflow (docs/approvals.md)',
  'approval-not-eligible': 'the caller may not decide this approval request: its rule does not name them, or they asked for it',
  'not-in-tenant': "a resource the call names does not exist in the caller's tenant (or belongs to another: answered as not found)",
} as const;

export type ReasonId = keyof typeof REASONS;

export interface Decision {
  readonly effect: 'allow' | 'deny';
  readonly reasons: readonly ReasonId[];
  /** Ids of the bindings that decided (allow) or denied (explicit deny). */
  readonly matchedBindings: readonly string[];
  /** Allowed only item by item: the search's results are filtered (and pages refilled). */
  readonly filter?: boolean;
}
