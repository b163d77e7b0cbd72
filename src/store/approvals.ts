/**
 * MLflow calls held for approval, in the shared store so every replica sees them. State changes
 * are conditional updates (`where status = <expected>`): of two replicas racing to execute or
 * decide one request, exactly one update matches.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type ApprovalStatus = 'pending' | 'executing' | 'executed' | 'denied' | 'expired' | 'refused';

export type StoredApproval = Database['approvals'];
export type StoredVote = Database['approval_votes'];

export function approvalRepository(db: Kysely<Database>) {
  return {
    async insert(row: StoredApproval): Promise<void> {
      await db.insertInto('approvals').values(row).execute();
    },
    async get(id: string): Promise<StoredApproval | undefined> {
      return db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Newest first; `tenants` undefined: every tenant. */
    async list(filter: { readonly status?: ApprovalStatus | undefined; readonly tenants?: readonly string[] | undefined }): Promise<StoredApproval[]> {
      let q = db.selectFrom('approvals').selectAll();
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      if (filter.tenants !== undefined) {
        if (filter.tenants.length === 0) return [];
        q = q.where('tenant', 'in', [...filter.tenants]);
      }
      return q.orderBy('created_at', 'desc').orderBy('id').execute();
    },
    async votes(id: string): Promise<StoredVote[]> {
      return db.selectFrom('approval_votes').selectAll().where('approval_id', '=', id).orderBy('at').orderBy('approver').execute();
    },
    /** One vote per approver: false when this approver already voted (the primary key refuses a second). */
    async vote(v: StoredVote): Promise<boolean> {
      const r = await db.insertInto('approval_votes').values(v).onConflict((oc) => oc.columns(['approval_id', 'approver']).doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    /** Moves `id` from `from` to `to`; true only for the one caller whose update matched. */
    async transition(id: string, from: ApprovalStatus, to: ApprovalStatus, fields: Partial<Pick<StoredApproval, 'result_status' | 'result_body' | 'finished_at'>> = {}): Promise<boolean> {
      const r = await db.updateTable('approvals').set({ status: to, ...fields }).where('id', '=', id).where('status', '=', from).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}

export type ApprovalRepository = ReturnType<typeof approvalRepository>;
