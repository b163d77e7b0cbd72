/**
 * Holds a protected call for approval (issue 23): when a rule of `approvals.rules` holds the
 * call (src/approvals/rules.ts), the call exactly as MLflow would receive it is stored with the
 * engine's input for it (src/services/approvals.ts), and the caller gets MLflow's error shape
 * naming the approval request and where to follow it. Nothing reaches MLflow. Runs after the
 * rewrite: what is stored is what would have been forwarded, and only an allowed call is held
 * (an approval never widens what the requester may do).
 */
import { GatehouseError } from '../../errors.ts';
import type { ApprovalRule } from '../../approvals/config.ts';
import { heldBy } from '../../approvals/rules.ts';
import type { ApprovalsService } from '../../services/approvals.ts';
import type { Stage } from '../context.ts';

export function holdForApproval(rules: () => readonly ApprovalRule[], approvals: () => ApprovalsService | undefined): Stage<'rewritten'> {
  return {
    name: 'hold-for-approval',
    needs: 'rewritten',
    async run(ctx) {
      if (ctx.decision.effect !== 'allow' || ctx.principal === undefined) return;
      const held = heldBy(rules(), ctx.route.row.op, ctx.tenant, ctx.json);
      if (!held) return;
      const service = approvals();
      // A rule in force with no service to store the request: refused, never forwarded (fail closed).
      if (!service || !ctx.access) throw new GatehouseError('GATEHOUSE_INTERNAL_ERROR', 'approval rule matched without an approvals service or access request');
      const { rawPath, rawQuery } = ctx.target;
      const approval = await service.hold({
        principal: ctx.principal,
        requestId: ctx.requestId,
        tenant: ctx.tenant,
        rule: held.rule,
        op: ctx.route.row.op,
        access: ctx.access,
        summary: held.summary,
        call: { method: ctx.method, path: rawQuery === '' ? rawPath : `${rawPath}?${rawQuery}`, headers: ctx.upstreamHeaders, body: ctx.body },
      });
      const needs = held.rule.required === 1 ? '1 approval' : `${held.rule.required} approvals from distinct people`;
      throw new GatehouseError(
        'GATEHOUSE_APPROVAL_REQUIRED',
        `approval ${approval.id} (rule ${held.rule.name})`,
        undefined,
        `Approval required (rule ${held.rule.name}): request ${approval.id} waits for ${needs}; nothing was sent to MLflow. Follow it at ${service.consolePath(approval.id)}`,
      );
    },
  };
}
