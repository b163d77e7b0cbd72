/**
 * Service accounts: non-human principals that hold API tokens. Disabling one stops its tokens on
 * their next use in every gateway (the token provider reads the owner on every request); deleting
 * one removes, in one transaction, its tokens and what names it in the stored policy (grants,
 * member entries, as the policy engine reads them), so a new account of the same name starts
 * with nothing.
 */
import { changesOf } from '../audit/admin-event.ts';
import { createServiceAccount, deleteServiceAccount, findServiceAccount, listServiceAccounts, listTokens, setServiceAccountDisabled, type ServiceAccount } from '../store/tokens.ts';
import { policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { entriesNaming, serviceAccountPrincipals } from './principals.ts';

export const SERVICE_ACCOUNT_NAME = /^[A-Za-z0-9._@-]{1,128}$/;

export interface ServiceAccountView {
  readonly name: string;
  readonly description: string;
  readonly disabled: boolean;
  readonly createdAt: string;
}

const view = ({ id: _id, ...sa }: ServiceAccount): ServiceAccountView => sa;
const fieldsOf = (sa: ServiceAccount) => ({ name: sa.name, description: sa.description, disabled: sa.disabled });

export function serviceAccountsService(deps: ServiceDeps) {
  const { store } = deps;
  const mustFind = async (name: string, db = store.db) => (await findServiceAccount(db, name)) ?? Promise.reject(notFound(`service account ${name}`));
  return {
    async list(): Promise<ServiceAccountView[]> {
      return (await listServiceAccounts(store.db)).map(view);
    },

    async create(actor: Actor, input: { readonly name: string; readonly description?: string | undefined }): Promise<ServiceAccountView> {
      if (!SERVICE_ACCOUNT_NAME.test(input.name)) throw invalid('name', 'letters, digits and . _ @ - (at most 128)');
      if (await findServiceAccount(store.db, input.name)) throw conflict(`service account ${input.name} already exists`);
      const sa = await createServiceAccount(store.db, { name: input.name, description: input.description ?? '', now: new Date(deps.now()) });
      await recordChange(deps, actor, { action: 'serviceAccount.create', target: { kind: 'service_account', id: sa.name }, changes: changesOf(null, fieldsOf(sa)) });
      return view(sa);
    },

    /** Disables or re-enables it: its tokens stop (or work again) on their next use. */
    async update(actor: Actor, name: string, change: { readonly disabled: boolean }): Promise<ServiceAccountView> {
      const before = await mustFind(name);
      if (before.disabled !== change.disabled) {
        await setServiceAccountDisabled(store.db, name, change.disabled);
        await deps.principalChanged(name);
      }
      const after = await mustFind(name);
      const changes = changesOf(fieldsOf(before), fieldsOf(after));
      if (Object.keys(changes).length > 0) await recordChange(deps, actor, { action: 'serviceAccount.update', target: { kind: 'service_account', id: name }, changes });
      return view(after);
    },

    /** Deletes it with its tokens, grants and member entries. */
    async delete(actor: Actor, name: string): Promise<void> {
      const removed = await store.transaction(async (tx) => {
        const sa = await mustFind(name, tx.db);
        const policy = await policyView(deps, tx);
        const entries = entriesNaming(policy, serviceAccountPrincipals(deps.providers, sa.name));
        const tokens = (await listTokens(tx.db)).filter((t) => t.owner.kind === 'service_account' && t.owner.id === sa.id).map((t) => t.id);
        await policy.repo.removeEntries(entries);
        await deleteServiceAccount(tx.db, sa.name);
        return { sa, entries, tokens };
      });
      await deps.principalChanged(name);
      await deps.policyChanged();
      const { sa, entries, tokens } = removed;
      await recordChange(deps, actor, {
        action: 'serviceAccount.delete',
        target: { kind: 'service_account', id: sa.name },
        changes: changesOf({ ...fieldsOf(sa), grants: entries.bindings.map((id) => `api:${id}`), groups: entries.groups, tenants: entries.tenants, tokens }, null),
      });
    },
  };
}

export type ServiceAccountsService = ReturnType<typeof serviceAccountsService>;
