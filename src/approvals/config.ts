/**
 * The `approvals` configuration section: which MLflow calls wait for a second person
 * (src/services/approvals.ts, docs/approvals.md). Only the rule kinds listed here are accepted;
 * each one is enforced by the hold-for-approval stage (src/pipeline/stages/hold-for-approval.ts).
 */
import { z } from 'zod';

const approversSchema = z
  .strictObject({
    roles: z.array(z.string().min(1)).default([]).describe('Roles whose holders in the request\'s tenant may approve (a binding of the role at that tenant, or everywhere). Default none.'),
    groups: z.array(z.string().min(1)).default([]).describe('Groups whose members may approve. Default none.'),
    tenantAdmins: z.boolean().default(false).describe('Whether holders of an admin role in the request\'s tenant (and platform administrators) may approve. Default false.'),
  })
  .refine((a) => a.roles.length > 0 || a.groups.length > 0 || a.tenantAdmins, 'name at least one approver: roles, groups or tenantAdmins')
  .describe('Who may approve.');

export const approvalRuleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower case letters, digits and -').describe('The rule\'s name, shown on each request it holds.'),
  kind: z
    .literal('alias')
    .describe('`alias`: setting or moving a registered-model alias (`registeredModels.setAlias`) whose name matches one of `aliases`. The only kind accepted so far.'),
  aliases: z.array(z.string().min(1)).min(1).describe('Alias name patterns (`*` matches any run of characters: `prod-*`).'),
  tenants: z.array(z.string().min(1)).optional().describe('Tenants the rule applies in. Default: every tenant.'),
  approvers: approversSchema,
  required: z.union([z.literal(1), z.literal(2)]).default(1).describe('How many approvals: 1, or 2 from distinct people. Default 1.'),
  selfApproval: z.boolean().default(false).describe('Whether the requester may approve their own request. Default false (never).'),
  expiresAfterMs: z.number().int().min(1000).default(7 * 24 * 3600 * 1000).describe('How long a request waits for its approvals before it expires (milliseconds). Default 7 days.'),
});

export const approvalsSchema = z
  .strictObject({
    rules: z
      .array(approvalRuleSchema)
      .default([])
      .superRefine((rules, ctx) => {
        const seen = new Set<string>();
        rules.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `rule ${r.name} is named twice` });
          seen.add(r.name);
        });
      })
      .describe('Protected MLflow calls: each rule names the calls it holds for approval and who may approve them. Default none.'),
    consoleUrl: z
      .string()
      .url()
      .optional()
      .describe('The public URL of the gateway, to name the console page where a held request is followed. Default: the path `/_gatehouse/#/approvals/<id>` alone (the console page of the request).'),
  })
  .prefault({})
  .describe('Approvals of protected MLflow calls (docs/approvals.md).');

export type ApprovalsConfig = z.infer<typeof approvalsSchema>;
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;
