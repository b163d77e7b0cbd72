/**
 * The audit trail as stored by the `store` audit sink: a filtered, cursor-paginated query, and
 * an export of a time range as JSON Lines (one chained event per line, in chain order, streamed
 * page by page so memory stays flat). `gatehouse audit verify` checks an export's hash chain.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ADMIN_TARGET_KINDS, DOORS } from '../audit/admin-event.ts';
import { AUDIT_OUTCOMES } from '../audit/event.ts';
import { auditRepository } from '../store/audit.ts';
import type { AdminDeps } from './deps.ts';
import { invalid, route, type RouteSpec } from './http.ts';

const time = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time');
const range = { from: time.optional().describe('Inclusive lower bound (ISO 8601).'), to: time.optional().describe('Exclusive upper bound (ISO 8601).') };
const target = z
  .string()
  .refine((t) => (ADMIN_TARGET_KINDS as readonly string[]).includes(t.split(':')[0]!) && (t.includes(':') || !t.includes('%')), 'a target kind (user, tenant, ...) or kind:id')
  .optional()
  .describe('Admin events about one thing (`user:alice`, `tenant:team-a`) or one kind of thing (`user`).');
const auditQuery = z.strictObject({
  ...range,
  type: z.enum(['request', 'admin']).optional().describe('Only request events (MLflow calls) or only admin events (changes, sign-ins).'),
  principal: z.string().optional().describe('Principal id (`local:alice`): the caller of a request, the actor of an admin event (also `cli:<os user>`, `config`).'),
  tenant: z.string().optional(),
  operation: z.string().optional().describe('Operation id (`runs.create`), or admin action (`user.create`).'),
  decision: z.enum(['allow', 'deny']).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional().describe('How the event ended: `allowed`, `denied` (policy or admin refusal), `malformed`, `failed`, `aborted` (client went away), `pending` (written before forwarding).'),
  target,
  door: z.enum(DOORS as [string, ...string[]]).optional().describe('Admin events that came through this door.'),
  cursor: z.string().optional().describe("A previous page's nextCursor."),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function auditRoutes(deps: AdminDeps): RouteSpec[] {
  const repo = auditRepository(deps.store.db);
  return [
    route({
      method: 'GET', path: '/audit', tag: 'audit', access: 'admin', query: auditQuery,
      summary: 'Query audit events, request and admin (needs the store audit sink): filters and cursor pagination, in chain order',
      response: z.object({ events: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() }),
      handler: async ({ query }) => {
        try {
          return await repo.query(query);
        } catch (err) {
          if (err instanceof TypeError && /cursor/.test(err.message)) throw invalid('cursor', 'not a cursor this API returned');
          throw err;
        }
      },
    }),
    route({
      method: 'GET', path: '/audit/export', tag: 'audit', access: 'admin', query: z.strictObject(range), produces: 'application/x-ndjson',
      summary: 'Export audit events of a time range as JSON Lines (verify with gatehouse audit verify)',
      handler: async ({ query, reply }) => {
        const lines = async function* () {
          for await (const e of repo.scan(query)) yield `${JSON.stringify(e)}\n`;
        };
        return reply
          .code(200)
          .headers({ 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'content-disposition': 'attachment; filename="gatehouse-audit.jsonl"' })
          .send(Readable.from(lines()));
      },
    }),
  ];
}
