/**
 * Provisioning health: the last SCIM request and the last refusal (kept in the store, so every
 * replica and the admin API see the same), and counts of what SCIM provisioned.
 */
import { recordScimActivity, scimActivity, scimCounts, type ScimActivity } from '../store/scim.ts';
import type { Store } from '../store/store.ts';

export interface ScimObserver {
  answered(a: Omit<ScimActivity, 'at'>): Promise<void>;
}

export function scimObserver(store: Store, now: () => number, onAnswer?: (a: Omit<ScimActivity, 'at'>) => void): ScimObserver {
  return {
    async answered(a) {
      onAnswer?.(a);
      const activity = { ...a, at: new Date(now()).toISOString() };
      await recordScimActivity(store.db, 'scim_last_request', activity);
      if (a.status >= 400) await recordScimActivity(store.db, 'scim_last_error', activity);
    },
  };
}

export async function scimHealth(store: Store) {
  return { ...(await scimActivity(store.db)), counts: await scimCounts(store.db) };
}
