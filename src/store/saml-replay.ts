/**
 * The SAML assertion-replay cache over the shared store (table `saml_assertions`, migration
 * 0011_identity_lifecycle): an assertion id is inserted when it signs someone in and kept until the
 * assertion expires. The primary key decides, so two replicas receiving the same response at the
 * same moment cannot both accept it (one insert fails) — on SQLite and PostgreSQL alike.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export function samlReplayCache(db: Kysely<Database>, now: () => number) {
  let lastSweep = 0;
  return {
    /** Records the id; false when it is already recorded and not yet expired (a replay). */
    async firstUse(id: string, expiresAt: number): Promise<boolean> {
      const t = now();
      if (t - lastSweep > 60_000) {
        lastSweep = t;
        await db.deleteFrom('saml_assertions').where('expires_at', '<=', t).execute();
      }
      // SQLite's `changes`, PostgreSQL's row count: 0 when the id was already there.
      const inserted = await db.insertInto('saml_assertions').values({ id, expires_at: expiresAt }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
    },
  };
}
