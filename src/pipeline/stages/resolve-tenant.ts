/**
 * Which tenant the call acts in. A client may choose one of its own tenants with MLflow's
 * standard `X-MLFLOW-WORKSPACE` header (the MLflow client sends it from `MLFLOW_WORKSPACE`);
 * otherwise its default tenant applies. Any other value is refused. Never taken from any
 * other client input. In workspace mode the tenant is an MLflow workspace, and the rewrite
 * stage pins the header to it.
 */
import { GatehouseError } from '../../errors.ts';
import { isAdmin, tenantsOf } from '../../policy/engine.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import type { Stage } from '../context.ts';

const WORKSPACE_NAME = /^(?!.*--)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])$/;
const DEFAULT_WORKSPACE = 'default';

export function resolveTenant(snapshot: () => PolicySnapshot, upstreams: Upstreams): Stage<'matched'> {
  return {
    name: 'resolve-tenant',
    needs: 'matched',
    async run(ctx) {
      const row = ctx.route.row;
      const principal = ctx.principal;
      if (!principal || row.action === 'public' || row.action === 'deny' || row.tenancy === 'global') return;
      // The workspace API itself is not workspace-scoped: the MLflow client sends no header there
      // (`rest_utils._should_include_workspace_header`), and MLflow would refuse a missing one.
      if (row.workspaceApi !== undefined) return;
      const policy = snapshot();
      const requested = ctx.req.headers['x-mlflow-workspace'];
      const mine = tenantsOf(policy, principal);
      const admin = isAdmin(policy, principal) !== undefined;
      let tenant: string | undefined;
      if (typeof requested === 'string' && requested !== '') {
        if (!WORKSPACE_NAME.test(requested)) throw new GatehouseError('GATEHOUSE_TENANT_FORBIDDEN', 'malformed workspace name');
        if (!admin && !mine.includes(requested)) throw new GatehouseError('GATEHOUSE_TENANT_FORBIDDEN', `not a member of ${requested}`);
        tenant = requested;
      } else if (policy.defaultTenant !== undefined && (admin || mine.includes(policy.defaultTenant))) {
        tenant = policy.defaultTenant;
      } else {
        tenant = admin ? (mine[0] ?? DEFAULT_WORKSPACE) : mine[0];
      }
      if (tenant === undefined) return; // the policy stage denies: no tenant
      // An MLflow without workspaces has only the default one; in instance mode a tenant needs its
      // own MLflow. A tenant that cannot be served safely is refused.
      if (!(await upstreams.canServe(tenant))) {
        throw new GatehouseError('GATEHOUSE_TENANT_UNAVAILABLE', `tenant ${tenant} cannot be served`);
      }
      ctx.tenant = tenant;
    },
  };
}
