/** Repository for resource ownership (creators of experiments and registered models). */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface OwnedResource {
  readonly tenant: string;
  readonly kind: 'experiment' | 'registered_model';
  /** Experiment id, or registered model name. */
  readonly resource: string;
  readonly principalId: string;
}

export interface OwnershipRepository {
  record(owner: OwnedResource): Promise<void>;
  all(): Promise<OwnedResource[]>;
  /** Who created this resource, if Gatehouse saw it created. */
  ownerOf(tenant: string, kind: OwnedResource['kind'], resource: string): Promise<OwnedResource | undefined>;
}

export function ownershipRepository(db: Kysely<Database>, now: () => Date = () => new Date()): OwnershipRepository {
  return {
    async record(o) {
      // A name reused after a delete gets its new creator (registered model names are reusable).
      await db
        .insertInto('resource_owners')
        .values({ tenant: o.tenant, kind: o.kind, resource: o.resource, principal_id: o.principalId, created_at: now().toISOString() })
        .onConflict((oc) => oc.columns(['tenant', 'kind', 'resource']).doUpdateSet({ principal_id: o.principalId, created_at: now().toISOString() }))
        .execute();
    },
    async ownerOf(tenant, kind, resource) {
      const r = await db.selectFrom('resource_owners').selectAll().where('tenant', '=', tenant).where('kind', '=', kind).where('resource', '=', resource).executeTakeFirst();
      return r && { tenant: r.tenant, kind: r.kind as OwnedResource['kind'], resource: r.resource, principalId: r.principal_id };
    },
    async all() {
      const rows = await db.selectFrom('resource_owners').selectAll().execute();
      return rows.map((r) => ({ tenant: r.tenant, kind: r.kind as OwnedResource['kind'], resource: r.resource, principalId: r.principal_id }));
    },
  };
}
