/**
 * `gatehouse tokens create|list|revoke|rotate` and `gatehouse service-accounts add|list|update|disable|enable|delete`
 * (registered in cli/commands.ts), over the tokens and service-accounts services. A token is
 * printed once, at creation; nothing else ever prints a secret.
 */
import { flag, type Command, type CommandInput } from './command.ts';
import { withServices } from './services.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
const NAME = /^[A-Za-z0-9._@-]{1,128}$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w` → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([mhdw])$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** The token id argument (12 hex digits), or undefined after saying what is missing. */
function tokenIdOf(input: CommandInput): string | undefined {
  const id = input.positionals[0];
  if (id && /^[0-9a-f]{12}$/.test(id)) return id;
  err('a token id (12 hex digits, see gatehouse tokens list) is required');
  return undefined;
}

export const tokenCommands: Record<string, Command> = {
  'tokens create': {
    summary: 'create an API token (printed once)',
    writes: true,
    usage: [
      'gatehouse tokens create (--user NAME | --service-account NAME) [options] [--json]',
      '',
      '  --user NAME              personal token of a local user (gth_pat_...)',
      '  --service-account NAME   token of a service account (gth_sat_...; see service-accounts add)',
      '  --expires-in DURATION    30d, 12h, 90m, 2w; default: never expires',
      '  --tenant NAME            the token acts only in this tenant',
      "  --max-role ROLE          the owner's grants are capped to this role's (viewer, contributor, ...)",
      '  --description TEXT       what the token is for',
      'The token is printed once and stored only as a hash. Use it as MLFLOW_TRACKING_TOKEN, or as the',
      'HTTP Basic password (any user name).',
    ].join('\n'),
    options: {
      user: { type: 'string' },
      'service-account': { type: 'string' },
      'expires-in': { type: 'string' },
      tenant: { type: 'string' },
      'max-role': { type: 'string' },
      description: { type: 'string' },
    },
    async run(input) {
      const { values } = input;
      const user = values.user as string | undefined;
      const sa = values['service-account'] as string | undefined;
      if ((user === undefined) === (sa === undefined)) {
        err('give exactly one of --user NAME and --service-account NAME');
        return 2;
      }
      const expiresIn = values['expires-in'] as string | undefined;
      const ttl = expiresIn === undefined ? undefined : parseDuration(expiresIn);
      if (expiresIn !== undefined && ttl === undefined) {
        err('--expires-in: a number and a unit m, h, d or w (30d)');
        return 2;
      }
      // Tenants and roles are checked by the service against the configuration AND the store.
      return withServices(input, async (services, actor) => {
        const narrowing = { tenant: values.tenant as string | undefined, maxRole: values['max-role'] as string | undefined, description: (values.description as string | undefined) ?? '', expiresInMs: ttl };
        const t = await services.tokens.mint(actor, user !== undefined ? { user } : { serviceAccount: sa! }, narrowing);
        if (values.json) out(JSON.stringify({ id: t.id, owner: t.owner, ownerKind: t.ownerKind, tenant: t.tenant, maxRole: t.maxRole, expiresAt: t.expiresAt, token: t.token }));
        else {
          out(`token ${t.id} for ${t.ownerKind === 'user' ? 'user' : 'service account'} ${t.owner} (shown once, store it now):`);
          out(t.token);
        }
        return 0;
      });
    },
  },
  'tokens list': {
    summary: 'list API tokens (never their secrets)',
    usage: 'gatehouse tokens list [--json]',
    async run(input) {
      return withServices(input, async (services) => {
        const tokens = await services.tokens.list();
        if (input.values.json) out(JSON.stringify(tokens, null, 2));
        else {
          for (const t of tokens) {
            const narrowing = [t.tenant && `tenant=${t.tenant}`, t.maxRole && `max-role=${t.maxRole}`].filter(Boolean).join(' ');
            out(`${t.id}  ${t.status.padEnd(8)} ${t.ownerKind === 'user' ? 'user' : 'sa'}:${t.owner}  expires=${t.expiresAt ?? 'never'}  last-used=${t.lastUsedAt ?? 'never'}${narrowing ? `  ${narrowing}` : ''}${t.description ? `  ${t.description}` : ''}`);
          }
        }
        return 0;
      });
    },
  },
  'tokens revoke': {
    summary: 'revoke an API token by id (effective on the next request)',
    writes: true,
    usage: 'gatehouse tokens revoke <id>\n\nThe id is the 12 hex digits after gth_pat_ / gth_sat_ (see tokens list).',
    async run(input) {
      const id = tokenIdOf(input);
      if (id === undefined) return 2;
      return withServices(input, async (services, actor) => {
        await services.tokens.revoke(actor, id);
        out(`token ${id} revoked`);
        return 0;
      });
    },
  },
  'tokens rotate': {
    summary: 'rotate an API token: a successor with the same scope, printed once; the old one revoked',
    writes: true,
    usage: [
      'gatehouse tokens rotate <id> [--overlap-seconds N] [--json]',
      '',
      '  --overlap-seconds N   the old token keeps working N seconds (0 to 86400); default 0: revoked at once',
      'The successor has the old token\'s owner, tenant, max role, description and lifetime. It is minted and',
      'the old token revoked in one transaction. The new token is printed once and stored only as a hash.',
    ].join('\n'),
    options: { 'overlap-seconds': { type: 'string' } },
    async run(input) {
      const id = tokenIdOf(input);
      if (id === undefined) return 2;
      const overlap = (input.values['overlap-seconds'] as string | undefined) ?? '0';
      if (!/^\d{1,6}$/.test(overlap)) {
        err('--overlap-seconds: a whole number of seconds (0 to 86400)');
        return 2;
      }
      // The bound (a day) is the service's, for every door.
      return withServices(input, async (services, actor) => {
        const t = await services.tokens.rotate(actor, id, { overlapSeconds: Number(overlap) });
        if (input.values.json) out(JSON.stringify({ id: t.id, replaces: t.replaces, owner: t.owner, ownerKind: t.ownerKind, tenant: t.tenant, maxRole: t.maxRole, expiresAt: t.expiresAt, token: t.token }));
        else {
          out(`token ${t.id} replaces ${t.replaces} for ${t.ownerKind === 'user' ? 'user' : 'service account'} ${t.owner} (shown once, store it now):`);
          out(t.token);
        }
        return 0;
      });
    },
  },
  'service-accounts add': {
    summary: 'create a service account (a non-human principal that holds tokens)',
    writes: true,
    usage: 'gatehouse service-accounts add <name> [--description TEXT] [--json]\n\nBind roles to it with `serviceAccount: <name>` in bindings.',
    options: { description: { type: 'string' } },
    async run(input) {
      const name = input.positionals[0];
      if (!name || !NAME.test(name)) {
        err('a service account name (letters, digits, . _ @ -) is required');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        const sa = await services.serviceAccounts.create(actor, { name, description: input.values.description as string | undefined });
        if (input.values.json) out(JSON.stringify(sa));
        else out(`service account ${name} created`);
        return 0;
      });
    },
  },
  'service-accounts list': {
    summary: 'list service accounts',
    usage: 'gatehouse service-accounts list [--json]',
    async run(input) {
      return withServices(input, async (services) => {
        const accounts = await services.serviceAccounts.list();
        if (input.values.json) out(JSON.stringify(accounts, null, 2));
        else for (const a of accounts) out(`${a.name}${a.disabled ? ' (disabled)' : ''}${a.description ? `  ${a.description}` : ''}`);
        return 0;
      });
    },
  },
  'service-accounts update': {
    summary: 'disable or re-enable a service account (its tokens stop or work again on their next use)',
    writes: true,
    usage: 'gatehouse service-accounts update <name> --disabled true|false [--json]',
    options: { disabled: { type: 'string' } },
    async run(input) {
      const disabled = flag(input.values.disabled);
      if (disabled === undefined || disabled === null) {
        err('a service account name and --disabled true or false are required');
        return 2;
      }
      return setDisabled(input, disabled);
    },
  },
  'service-accounts disable': {
    summary: 'disable a service account: its tokens are refused from their next use',
    writes: true,
    usage: 'gatehouse service-accounts disable <name> [--json]\n\nThe same as `service-accounts update <name> --disabled true`.',
    run: (input) => setDisabled(input, true),
  },
  'service-accounts enable': {
    summary: 're-enable a service account: its tokens work again from their next use',
    writes: true,
    usage: 'gatehouse service-accounts enable <name> [--json]\n\nThe same as `service-accounts update <name> --disabled false`.',
    run: (input) => setDisabled(input, false),
  },
  'service-accounts delete': {
    summary: 'delete a service account with its tokens, grants and memberships',
    writes: true,
    usage: 'gatehouse service-accounts delete <name>',
    async run(input) {
      const name = input.positionals[0];
      if (!name) {
        err('a service account name is required');
        return 2;
      }
      return withServices(input, async (services, actor) => {
        await services.serviceAccounts.delete(actor, name);
        out(`service account ${name} deleted`);
        return 0;
      });
    },
  },
};

async function setDisabled(input: CommandInput, disabled: boolean): Promise<number> {
  const name = input.positionals[0];
  if (!name) {
    err('a service account name is required');
    return 2;
  }
  return withServices(input, async (services, actor) => {
    const sa = await services.serviceAccounts.update(actor, name, { disabled });
    if (input.values.json) out(JSON.stringify(sa));
    else out(`${sa.name}${sa.disabled ? ' (disabled)' : ' (enabled)'}`);
    return 0;
  });
}
