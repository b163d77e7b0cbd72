/**
 * `gatehouse users identities|link|unlink|set-email` (registered in cli/commands.ts): IdP
 * identities (`<provider id>:<subject>`) linked to a local user (`auth.providers[].link: subject`)
 * and its email (`link: email`), over the identities service (src/services/identities.ts).
 */
import type { Command } from './command.ts';
import { withServices } from './services.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** `users link` and `users unlink`: a user name and an identity, one service call. */
function linkCommand(verb: 'link' | 'unlink', summary: string, more = ''): Command {
  return {
    summary,
    writes: true,
    usage: `gatehouse users ${verb} <username> <provider id>:<subject>${more}`,
    async run(input) {
      const [username, identity] = input.positionals;
      if (!username || !identity) {
        err('a user name and an identity <provider id>:<subject>');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        await services.identities[verb](actor, username, identity);
        out(`${identity} ${verb === 'link' ? 'linked to' : 'unlinked from'} ${username}`);
        return 0;
      });
    },
  };
}

export const identityCommands: Record<string, Command> = {
  'users identities': {
    summary: 'list the IdP identities linked to a local user',
    usage: 'gatehouse users identities <username> [--json]',
    async run(input) {
      const username = input.positionals[0];
      if (!username) {
        err('a user name is required');
        return 2;
      }
      return withServices(input, async (services) => {
        const linked = await services.identities.list(username);
        out(input.values.json ? JSON.stringify(linked, null, 2) : [...(linked.email !== null ? [`email ${linked.email}`] : []), ...linked.identities].join('\n'));
        return 0;
      });
    },
  },
  'users link': linkCommand('link', 'link an IdP identity to a local user (its provider needs link: subject)', '\n\nSigning in as that identity is then signing in as the user (docs/identity.md, "Identity binding").'),
  'users set-email': {
    summary: "set or clear the email a verified sign-in binds to a local user (providers with link: email)",
    writes: true,
    usage: 'gatehouse users set-email <username> (<email> | --clear)',
    options: { clear: { type: 'boolean' } },
    async run(input) {
      const [username, email] = input.positionals;
      const clear = Boolean(input.values.clear);
      if (!username || (email === undefined) === !clear) {
        err('a user name, and an email or --clear');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        const r = await services.identities.setEmail(actor, username, clear ? null : email!);
        out(r.email === null ? `email of ${username} cleared` : `email of ${username} is ${r.email}`);
        return 0;
      });
    },
  },
  'users unlink': linkCommand('unlink', 'unlink an IdP identity from a local user'),
};
