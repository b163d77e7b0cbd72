/**
 * Creators get MANAGE on what they create (docs/design.md, "Authorization model"). The index is
 * loaded once from the store and updated when a create succeeds, so a decision still needs no
 * database round trip. The grants it yields are resource-scoped: an experiment by id, a
 * registered model (or prompt) by exact name, in the tenant it was created in.
 */
import { GatehouseError } from '../errors.ts';
import type { OwnedResource, OwnershipRepository } from '../store/ownership.ts';
import type { Role, Scope } from '../model/policy.ts';

export const OWNER_ROLE: Role = {
  name: 'owner',
  description: 'What a creator holds on what it created.',
  levels: { experiment: 'MANAGE', model: 'MANAGE' },
  operations: [],
  create: [],
  admin: false,
};

export interface OwnershipIndex {
  /** Scopes the principal owns. */
  scopesOf(principalId: string): readonly Scope[];
  record(owner: OwnedResource): Promise<void>;
}

function scopeOf(o: OwnedResource): Scope {
  return o.kind === 'experiment' ? { kind: 'experiment', tenant: o.tenant, id: o.resource } : { kind: 'model', tenant: o.tenant, name: o.resource };
}

/**
 * The index, empty until `load` has read the store once (a gateway may start while the store is
 * down); until then `scopesOf` throws 503 GATEHOUSE_STORE_UNAVAILABLE rather than answer
 * "owns nothing".
 */
export function createOwnershipIndex(repo: OwnershipRepository): OwnershipIndex & { load(): Promise<void> } {
  const byPrincipal = new Map<string, Map<string, Scope>>();
  const ownerOf = new Map<string, string>();
  let loaded = false;
  const put = (o: OwnedResource) => {
    // A reused name moves to its new creator: drop it from whoever held it.
    const key = `${o.tenant}\0${o.kind}\0${o.resource}`;
    const previous = ownerOf.get(key);
    if (previous !== undefined) byPrincipal.get(previous)?.delete(key);
    ownerOf.set(key, o.principalId);
    const scopes = byPrincipal.get(o.principalId) ?? new Map<string, Scope>();
    scopes.set(key, scopeOf(o));
    byPrincipal.set(o.principalId, scopes);
  };
  return {
    scopesOf(id) {
      if (!loaded) throw new GatehouseError('GATEHOUSE_STORE_UNAVAILABLE', 'ownership is not loaded from the store yet');
      return [...(byPrincipal.get(id)?.values() ?? [])];
    },
    async record(o) {
      await repo.record(o);
      put(o);
    },
    async load() {
      if (loaded) return;
      for (const o of await repo.all()) put(o);
      loaded = true;
    },
  };
}
