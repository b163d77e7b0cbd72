/**
 * `gatehouse sessions list|revoke` (registered in cli/commands.ts): the browser sessions of a
 * local user (`<username>`) or of a principal that is no local user (`--principal
 * <provider id>:<subject>`: an OIDC, SAML or LDAP sign-in), over the sessions service. A session is
 * shown by its handle (the SHA-256 of its cookie, as the store keeps it and the `session.signIn`
 * admin event names it), never by the cookie value, which nothing outside the browser ever holds.
 */
import type { Command } from './command.ts';
import { withServices } from './services.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** Whose sessions: a local user by name, or a principal by `--principal`; exactly one. */
function ownerOf(positional: string | undefined, principal: unknown): { user: string } | { principal: string } | undefined {
  if (typeof principal === 'string') return positional === undefined ? { principal } : undefined;
  return positional === undefined ? undefined : { user: positional };
}

export const sessionCommands: Record<string, Command> = {
  'sessions list': {
    summary: "list a local user's or a principal's live browser sessions (by handle, never the cookie)",
    usage: 'gatehouse sessions list (<username> | --principal <provider id>:<subject>) [--json]\n\nOne line per live session, newest first: handle, provider, signed in, last seen, expires.',
    options: { principal: { type: 'string' } },
    async run(input) {
      const owner = ownerOf(input.positionals[0], input.values.principal);
      if (!owner) {
        err('a user name, or --principal <provider id>:<subject>');
        return 2;
      }
      return withServices(input, async (services) => {
        const sessions = 'user' in owner ? await services.sessions.listOfUser(owner.user) : await services.sessions.listOfPrincipal(owner.principal);
        if (input.values.json) out(JSON.stringify(sessions, null, 2));
        else for (const s of sessions) out(`${s.handle}  ${s.principal.provider}  signed-in=${s.createdAt}  last-seen=${s.lastSeenAt}  expires=${s.expiresAt}`);
        return 0;
      });
    },
  },
  'sessions revoke': {
    summary: "end one of a local user's or a principal's browser sessions, or all of them",
    writes: true,
    usage:
      "gatehouse sessions revoke <username> (<handle> | --all)\ngatehouse sessions revoke --principal <provider id>:<subject> (<handle> | --all)\n\nThe handle is from `gatehouse sessions list`. The session's next request is signed out.",
    options: { all: { type: 'boolean' }, principal: { type: 'string' } },
    async run(input) {
      const byPrincipal = typeof input.values.principal === 'string';
      const [first, second] = input.positionals;
      const owner = ownerOf(byPrincipal ? undefined : first, input.values.principal);
      const handle = byPrincipal ? first : second;
      const all = Boolean(input.values.all);
      if (!owner || (handle === undefined) === !all || (byPrincipal ? second : input.positionals[2]) !== undefined) {
        err('a user name or --principal <provider id>:<subject>, and either a session handle or --all');
        return 2;
      }
      const who = 'user' in owner ? owner.user : owner.principal;
      return withServices(input, async (services, actor) => {
        const s = services.sessions;
        if (all) out(`${('user' in owner ? await s.revokeAllOfUser(actor, owner.user) : await s.revokeAllOfPrincipal(actor, owner.principal)).revoked} session(s) of ${who} ended`);
        else {
          if ('user' in owner) await s.revokeOfUser(actor, owner.user, handle!);
          else await s.revokeOfPrincipal(actor, owner.principal, handle!);
          out(`session ${handle} of ${who} ended`);
        }
        return 0;
      });
    },
  },
};
