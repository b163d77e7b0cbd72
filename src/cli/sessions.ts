/**
 * `gatehouse sessions list|revoke` (registered in cli/commands.ts): a local user's browser
 * sessions over the sessions service. A session is shown by its handle (the SHA-256 of its
 * cookie, as the store keeps it and the `session.signIn` admin event names it), never by the
 * cookie value, which nothing outside the browser ever holds.
 */
import type { Command } from './command.ts';
import { withServices } from './services.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

export const sessionCommands: Record<string, Command> = {
  'sessions list': {
    summary: "list a local user's live browser sessions (by handle, never the cookie)",
    usage: 'gatehouse sessions list <username> [--json]\n\nOne line per live session, newest first: handle, provider, signed in, last seen, expires.',
    async run(input) {
      const username = input.positionals[0];
      if (!username) {
        err('a user name is required');
        return 2;
      }
      return withServices(input, async (services) => {
        const sessions = await services.sessions.listOfUser(username);
        if (input.values.json) out(JSON.stringify(sessions, null, 2));
        else for (const s of sessions) out(`${s.handle}  ${s.principal.provider}  signed-in=${s.createdAt}  last-seen=${s.lastSeenAt}  expires=${s.expiresAt}`);
        return 0;
      });
    },
  },
  'sessions revoke': {
    summary: "end one of a local user's browser sessions, or all of them",
    writes: true,
    usage: 'gatehouse sessions revoke <username> (<handle> | --all)\n\nThe handle is from `gatehouse sessions list`. The session\'s next request is signed out.',
    options: { all: { type: 'boolean' } },
    async run(input) {
      const [username, handle] = input.positionals;
      const all = Boolean(input.values.all);
      if (!username || (handle === undefined) === !all) {
        err('a user name, and either a session handle or --all');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        if (all) out(`${(await services.sessions.revokeAllOfUser(actor, username)).revoked} session(s) of ${username} ended`);
        else {
          await services.sessions.revokeOfUser(actor, username, handle!);
          out(`session ${handle} of ${username} ended`);
        }
        return 0;
      });
    },
  },
};
