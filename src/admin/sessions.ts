/**
 * Browser sessions (the login page's cookie): list them, per user if asked, and revoke one; and
 * a local user's own (`/users/:username/sessions`): list, revoke one, revoke all. A session is
 * named by its handle, the SHA-256 the store keeps (the target of its `session.signIn` event): it
 * identifies the session and cannot be replayed as a cookie. The rules are the sessions service's.
 */
import { z } from 'zod';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const sessionView = z.object({
  handle: z.string(),
  principal: z.object({ id: z.string(), name: z.string(), kind: z.string(), provider: z.string() }),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
});

export function sessionRoutes(deps: AdminDeps): RouteSpec[] {
  const sessions = deps.services.sessions;
  return [
    route({
      method: 'GET', path: '/sessions', tag: 'sessions', access: 'admin', summary: 'List live browser sessions (of one user by name, or one principal id)',
      query: z.strictObject({ user: z.string().optional(), principal: z.string().optional() }),
      response: z.object({ sessions: z.array(sessionView) }),
      handler: async ({ query }) => ({ sessions: await sessions.list(query) }),
    }),
    route({
      method: 'GET', path: '/users/:username/sessions', tag: 'sessions', access: 'admin', summary: "List a local user's live browser sessions, newest first",
      response: z.object({ sessions: z.array(sessionView) }),
      handler: async ({ params }) => ({ sessions: await sessions.listOfUser(params.username!) }),
    }),
    route({
      method: 'DELETE', path: '/users/:username/sessions/:handle', tag: 'sessions', access: 'admin', status: 204,
      summary: "End one of a local user's browser sessions (its next request is signed out)",
      handler: async ({ actor, params }) => {
        await sessions.revokeOfUser(actor, params.username!, params.handle!);
        return undefined;
      },
    }),
    route({
      method: 'DELETE', path: '/users/:username/sessions', tag: 'sessions', access: 'admin', summary: "End every browser session of a local user",
      response: z.object({ revoked: z.number().int() }),
      handler: async ({ actor, params }) => sessions.revokeAllOfUser(actor, params.username!),
    }),
    route({
      method: 'DELETE', path: '/sessions/:handle', tag: 'sessions', access: 'admin', status: 204, summary: 'Revoke a browser session (the next request with its cookie is signed out)',
      handler: async ({ actor, params }) => {
        await sessions.revoke(actor, params.handle!);
        return undefined;
      },
    }),
  ];
}
