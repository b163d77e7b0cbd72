/**
 * What the pipeline asks about a principal on every request (its tenants, whether it is a
 * platform administrator), remembered per (policy snapshot, principal). Both are immutable: a
 * policy change builds a new snapshot, and the identity caches hand out the same principal object
 * for the same credential, so a repeated caller costs one lookup instead of recomputing its
 * bindings and groups (docs/performance.md). A principal seen once is forgotten with it (weak).
 */
import type { Principal } from '../identity/principal.ts';
import { isAdmin, tenantsOf } from './engine.ts';
import type { PolicySnapshot } from './snapshot.ts';

export interface Membership {
  /** tenantsOf: in configuration order; shared, never to be modified. */
  readonly tenants: readonly string[];
  /** isAdmin(...) !== undefined. */
  readonly admin: boolean;
}

const memo = new WeakMap<PolicySnapshot, WeakMap<Principal, Membership>>();

export function membershipOf(snapshot: PolicySnapshot, principal: Principal): Membership {
  let byPrincipal = memo.get(snapshot);
  if (!byPrincipal) memo.set(snapshot, (byPrincipal = new WeakMap()));
  let m = byPrincipal.get(principal);
  if (!m) byPrincipal.set(principal, (m = { tenants: tenantsOf(snapshot, principal), admin: isAdmin(snapshot, principal) !== undefined }));
  return m;
}
