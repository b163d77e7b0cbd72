/**
 * `gatehouse tokens create|list|revoke` and `gatehouse service-accounts add|list` (registered in
 * cli/commands.ts). A token is printed once, at creation; nothing else ever prints a secret.
 */
import type { Command, CommandInput } from './commands.ts';
import { mintToken } from '../identity/token-format.ts';
import { BUILTIN_ROLES } from '../policy/model.ts';
import { openStore, type Store } from '../store/store.ts';
import { createServiceAccount, findServiceAccount, insertToken, listServiceAccounts, listTokens, revokeToken, tokenView } from '../store/tokens.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
const NAME = /^[A-Za-z0-9._@-]{1,128}$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

async function withStore<T>({ config }: CommandInput, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ ...config!.store, dataDir: config!.dataDir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `30d`, `12h`, `90m`, `2w` → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([mhdw])$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

export const tokenCommands: Record<string, Command> = {
  'tokens create': {
    summary: 'create an API token (printed once)',
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
      const { config, values } = input;
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
      const tenant = values.tenant as string | undefined;
      if (tenant !== undefined && !config!.tenants.some((t) => t.name === tenant)) {
        err(`--tenant: no tenant ${tenant} in the configuration`);
        return 2;
      }
      const maxRole = values['max-role'] as string | undefined;
      const roles = [...BUILTIN_ROLES.map((r) => r.name), ...config!.roles.map((r) => r.name)];
      if (maxRole !== undefined && !roles.includes(maxRole)) {
        err(`--max-role: unknown role ${maxRole} (${roles.join(', ')})`);
        return 2;
      }
      return withStore(input, async (store) => {
        const now = new Date();
        let owner: { userId: string } | { serviceAccountId: string };
        if (user !== undefined) {
          const u = await store.findUserByName(user);
          if (!u) return (err(`no local user ${user}`), 1);
          owner = { userId: u.id };
        } else {
          const s = await findServiceAccount(store.db, sa!);
          if (!s) return (err(`no service account ${sa} (create it with: gatehouse service-accounts add ${sa})`), 1);
          owner = { serviceAccountId: s.id };
        }
        const minted = mintToken(user !== undefined ? 'personal' : 'service');
        const expiresAt = ttl === undefined ? undefined : new Date(now.getTime() + ttl);
        const description = (values.description as string | undefined) ?? '';
        await insertToken(store.db, { id: minted.id, secretHash: minted.hash, owner, description, tenant, maxRole, expiresAt, now });
        const facts = { id: minted.id, owner: user ?? sa!, ownerKind: user !== undefined ? 'user' : 'service_account', tenant: tenant ?? null, maxRole: maxRole ?? null, expiresAt: expiresAt?.toISOString() ?? null };
        if (values.json) out(JSON.stringify({ ...facts, token: minted.token }));
        else {
          out(`token ${minted.id} for ${facts.ownerKind === 'user' ? 'user' : 'service account'} ${facts.owner} (shown once, store it now):`);
          out(minted.token);
        }
        return 0;
      });
    },
  },
  'tokens list': {
    summary: 'list API tokens (never their secrets)',
    usage: 'gatehouse tokens list [--json]',
    async run(input) {
      return withStore(input, async (store) => {
        const now = Date.now();
        const tokens = (await listTokens(store.db)).map((t) => tokenView(t, now));
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
    usage: 'gatehouse tokens revoke <id>\n\nThe id is the 12 hex digits after gth_pat_ / gth_sat_ (see tokens list).',
    async run(input) {
      const id = input.positionals[0];
      if (!id || !/^[0-9a-f]{12}$/.test(id)) {
        err('a token id (12 hex digits, see gatehouse tokens list) is required');
        return 2;
      }
      return withStore(input, async (store) => {
        if (!(await revokeToken(store.db, id, new Date()))) return (err(`no token ${id}`), 1);
        out(`token ${id} revoked`);
        return 0;
      });
    },
  },
  'service-accounts add': {
    summary: 'create a service account (a non-human principal that holds tokens)',
    usage: 'gatehouse service-accounts add <name> [--description TEXT] [--json]\n\nBind roles to it with `serviceAccount: <name>` in bindings.',
    options: { description: { type: 'string' } },
    async run(input) {
      const name = input.positionals[0];
      if (!name || !NAME.test(name)) {
        err('a service account name (letters, digits, . _ @ -) is required');
        return 2;
      }
      return withStore(input, async (store) => {
        if (await findServiceAccount(store.db, name)) return (err(`service account ${name} already exists`), 1);
        const sa = await createServiceAccount(store.db, { name, description: (input.values.description as string | undefined) ?? '', now: new Date() });
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
      return withStore(input, async (store) => {
        const accounts = await listServiceAccounts(store.db);
        if (input.values.json) out(JSON.stringify(accounts, null, 2));
        else for (const a of accounts) out(`${a.name}${a.disabled ? ' (disabled)' : ''}${a.description ? `  ${a.description}` : ''}`);
        return 0;
      });
    },
  },
};
