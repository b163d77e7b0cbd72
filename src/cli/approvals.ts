/**
 * `gatehouse approvals list|show` (registered in cli/commands.ts): approval requests read through
 * the approvals service, as the admin API and console show them. Read-only by design: approving
 * or denying is a decision of a principal the rule names (a role, group or tenant admin), and the
 * CLI's actor `cli:<os user>` is none, so approve and deny stay on the admin API and the console.
 */
import type { Config } from '../config/schema.ts';
import { buildSnapshot } from '../policy/snapshot.ts';
import { mergeSources } from '../policy/service.ts';
import { policyRepository } from '../store/policy.ts';
import type { Store } from '../store/store.ts';
import type { ApprovalView } from '../services/approvals.ts';
import type { Command } from './command.ts';
import { withServices } from './services.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

const STATUSES = ['pending', 'executing', 'executed', 'denied', 'expired', 'refused'] as const;

/** The policy in force as a gateway on this configuration and store would build it. */
export async function storedPolicy(config: Readonly<Config>, store: Store) {
  return buildSnapshot(mergeSources({ ...config, defaultTenant: config.tenancy.defaultTenant }, await policyRepository(store.db).load()));
}

const what = (a: ApprovalView) => (a.summary?.kind === 'alias' ? `alias ${a.summary.alias} of ${a.summary.model} -> version ${a.summary.version}` : `${a.method} ${a.path}`);
const approvalsOf = (a: ApprovalView) => a.votes.filter((v) => v.decision === 'approve').length;

export const approvalCommands: Record<string, Command> = {
  'approvals list': {
    summary: 'list approval requests (read-only: approve and deny on the admin API or console)',
    usage: 'gatehouse approvals list [--status pending|executing|executed|denied|expired|refused] [--tenant <name>] [--json]\n\nOne line per request, newest first: id, status, tenant, requester, what it does, approvals so far of those required.',
    options: { status: { type: 'string' }, tenant: { type: 'string' } },
    async run(input) {
      const status = input.values.status as string | undefined;
      if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
        err(`--status must be one of ${STATUSES.join(', ')}`);
        return 2;
      }
      return withServices(input, async (services, actor) => {
        const list = await services.approvals!.list(actor, { status: status as (typeof STATUSES)[number] | undefined, tenant: input.values.tenant as string | undefined });
        if (input.values.json) out(JSON.stringify(list, null, 2));
        else for (const a of list) out(`${a.id}  ${a.status}  ${a.tenant ?? '(none)'}  ${a.requester}  ${what(a)}  ${approvalsOf(a)}/${a.required}  expires=${a.expiresAt}`);
        return 0;
      }, { policy: (store) => storedPolicy(input.config!, store) });
    },
  },
  'approvals show': {
    summary: 'show one approval request: what it does, what MLflow has now, its votes and result',
    usage: "gatehouse approvals show <id> [--json]\n\nThe request, its votes and MLflow's result; for an alias move, the alias's version in MLflow now (read from the tenant's MLflow; `unknown` when MLflow's answer is not clear).",
    async run(input) {
      const [id, extra] = input.positionals;
      if (id === undefined || extra !== undefined) {
        err('one approval request id (see gatehouse approvals list)');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        const a = await services.approvals!.get(actor, id);
        const current = a.summary?.kind === 'alias' && a.status === 'pending' ? await services.approvals!.current(actor, id) : undefined;
        if (input.values.json) {
          out(JSON.stringify({ ...a, ...(current && { current }) }, null, 2));
          return 0;
        }
        out(`${a.id}  ${a.status}`);
        out(`  tenant ${a.tenant ?? '(none)'}, requested by ${a.requester} at ${a.createdAt}, expires ${a.expiresAt}`);
        out(`  rule ${a.rule}: ${approvalsOf(a)} of ${a.required} approval(s)${a.selfApproval ? ' (the requester may approve their own)' : ''}`);
        out(`  call ${a.method} ${a.path} (${a.op}), body sha256 ${a.bodyHash}`);
        out(`  does ${what(a)}`);
        if (current) out(`  MLflow now: ${current.state === 'set' ? `version ${current.version}` : current.state === 'unset' ? 'alias not set' : `unknown (${current.reason})`}`);
        for (const v of a.votes) out(`  ${v.decision} by ${v.approver} at ${v.at}${v.comment ? `: ${v.comment}` : ''}`);
        if (a.result) out(`  MLflow answered ${a.result.status}: ${a.result.body.slice(0, 500)}`);
        return 0;
      }, { policy: (store) => storedPolicy(input.config!, store) });
    },
  },
};
