/**
 * `gatehouse scim-tokens create|list|revoke|rotate` (registered in cli/commands.ts), over the
 * SCIM tokens service (src/services/scim-tokens.ts). A token is printed once, at creation or
 * rotation; nothing else ever prints a secret.
 */
import { type Command } from './command.ts';
import { withServices } from './services.ts';
import { parseDuration } from './tokens.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

export const scimTokenCommands: Record<string, Command> = {
  'scim-tokens create': {
    summary: 'create a SCIM bearer token for a SCIM client (printed once)',
    writes: true,
    usage: [
      'gatehouse scim-tokens create <name> [--expires-in DURATION] [--json]',
      '',
      '  <name>                   the SCIM client (e.g. entra, okta): the actor of its changes in the audit',
      '  --expires-in DURATION    30d, 12h, 90m, 2w; default: never expires',
      'The token (gth_sct_...) opens /_gatehouse/scim/v2 and nothing else. It is printed once and stored only',
      'as a hash; --json prints {"token": ...} with its id, name and expiry.',
    ].join('\n'),
    options: { 'expires-in': { type: 'string' } },
    async run(input) {
      const name = input.positionals[0];
      if (!name) {
        err('a SCIM client name is required');
        return 2;
      }
      const expiresIn = input.values['expires-in'] as string | undefined;
      const ttl = expiresIn === undefined ? undefined : parseDuration(expiresIn);
      if (expiresIn !== undefined && ttl === undefined) {
        err('--expires-in: a number and a unit m, h, d or w (30d)');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        const t = await services.scimTokens.create(actor, name, { expiresInMs: ttl });
        if (input.values.json) out(JSON.stringify({ id: t.id, name: t.name, expiresAt: t.expiresAt, token: t.token }));
        else {
          out(`SCIM token ${t.id} for ${t.name} (shown once, store it now):`);
          out(t.token);
        }
        return 0;
      });
    },
  },
  'scim-tokens list': {
    summary: 'list SCIM tokens (never their secrets)',
    usage: 'gatehouse scim-tokens list [--json]',
    async run(input) {
      return withServices(input, async (services) => {
        const tokens = await services.scimTokens.list();
        if (input.values.json) out(JSON.stringify(tokens, null, 2));
        else for (const t of tokens) out(`${t.id}  ${t.status.padEnd(8)} ${t.name}  expires=${t.expiresAt ?? 'never'}  revoked=${t.revokedAt ?? 'no'}  last-used=${t.lastUsedAt ?? 'never'}`);
        return 0;
      });
    },
  },
  'scim-tokens revoke': {
    summary: 'revoke a SCIM token by id, at once',
    writes: true,
    usage: 'gatehouse scim-tokens revoke <id>\n\nThe id is the 12 hex digits after gth_sct_ (see scim-tokens list).',
    async run(input) {
      const id = input.positionals[0];
      if (!id || !/^[0-9a-f]{12}$/.test(id)) {
        err('a SCIM token id (12 hex digits, see gatehouse scim-tokens list) is required');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        await services.scimTokens.revoke(actor, id);
        out(`SCIM token ${id} revoked`);
        return 0;
      });
    },
  },
  'scim-tokens rotate': {
    summary: "rotate a SCIM client's token: a successor printed once; the old ones stop after the overlap",
    writes: true,
    usage: [
      'gatehouse scim-tokens rotate <name> [--overlap-seconds N] [--json]',
      '',
      '  --overlap-seconds N   the client\'s live tokens keep working N seconds (0 to 86400); default 0',
      'Put the new token into the identity provider within the overlap.',
    ].join('\n'),
    options: { 'overlap-seconds': { type: 'string' } },
    async run(input) {
      const name = input.positionals[0];
      if (!name) {
        err('a SCIM client name is required');
        return 2;
      }
      const overlap = (input.values['overlap-seconds'] as string | undefined) ?? '0';
      if (!/^\d{1,6}$/.test(overlap)) {
        err('--overlap-seconds: a whole number of seconds (0 to 86400)');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        const t = await services.scimTokens.rotate(actor, name, { overlapSeconds: Number(overlap) });
        if (input.values.json) out(JSON.stringify({ id: t.id, name: t.name, replaces: t.replaces, expiresAt: t.expiresAt, token: t.token }));
        else {
          out(`SCIM token ${t.id} for ${t.name} replaces ${t.replaces.join(', ')} (shown once, store it now):`);
          out(t.token);
        }
        return 0;
      });
    },
  },
};
