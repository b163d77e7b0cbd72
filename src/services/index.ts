/**
 * The control plane's services, one per noun; every door (admin API, console, CLI, MLflow-compat
 * API, configuration reload, login) calls these and nothing below them, so each rule is written
 * once (src/services/*.ts say which).
 */
import type { SessionRepository } from '../store/sessions.ts';
import type { ServiceDeps } from './context.ts';
import { grantsService } from './grants.ts';
import { groupsService } from './groups.ts';
import { identitiesService } from './identities.ts';
import { mlflowRolesService } from './mlflow-roles.ts';
import { rolesService } from './roles.ts';
import { scimService } from './scim.ts';
import { scimTokensService } from './scim-tokens.ts';
import { serviceAccountsService } from './service-accounts.ts';
import { sessionsService } from './sessions.ts';
import { tenantsService } from './tenants.ts';
import { tokensService } from './tokens.ts';
import { usersService } from './users.ts';
import { approvalsService, type ApprovalsDeps } from './approvals.ts';

export type { Actor, ServiceDeps } from './context.ts';

/**
 * `approvals`: what the approvals service needs beyond the store (the policy in force, a way to
 * MLflow); the gateway gives it. Without it (the CLI) there is no approvals service.
 */
export function createServices(deps: ServiceDeps & { readonly sessions: Pick<SessionRepository, 'list' | 'revokeHandle'>; readonly approvals?: ApprovalsDeps }) {
  const users = usersService(deps);
  const groups = groupsService(deps);
  const identities = identitiesService(deps);
  return {
    /** What the services were built with (the configuration-reload door applies with them). */
    deps: deps as ServiceDeps,
    users,
    identities,
    serviceAccounts: serviceAccountsService(deps),
    tokens: tokensService(deps),
    tenants: tenantsService(deps),
    groups,
    roles: rolesService(deps),
    /** MLflow 3.18's named roles (the MLflow-compat door, the importer). */
    mlflowRoles: mlflowRolesService(deps),
    grants: grantsService(deps),
    sessions: sessionsService(deps),
    scim: scimService(deps, users, groups, identities),
    scimTokens: scimTokensService(deps),
    /** Held MLflow calls (issue 23); undefined where no approvals dependencies were given (the CLI). */
    approvals: deps.approvals && approvalsService(deps, deps.approvals),
  };
}

export type Services = ReturnType<typeof createServices>;
