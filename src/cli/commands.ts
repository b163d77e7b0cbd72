/** The CLI's subcommands: each a summary, a usage text and a run function. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { migrateStore } from '../store/store.ts';
import { MLFLOW_ROUTES, routeOfOp } from '../routes/mlflow/table.ts';
import { describedRow } from '../routes/mlflow/docs.ts';
import { diffRoutes, expandTable, type ConcreteRoute } from '../routes/mlflow/expand.ts';
import { explain } from '../policy/explain.ts';
import { tenancyMode } from '../tenancy/index.ts';
import { assertedLocalName } from '../identity/providers.ts';
import { auditCommands } from '../audit/cli.ts';
import { tokenCommands } from './tokens.ts';
import { sessionCommands } from './sessions.ts';
import { approvalCommands, storedPolicy } from './approvals.ts';
import { scimTokenCommands } from './scim-tokens.ts';
import { identityCommands } from './identities.ts';
import { importCommands } from './import-mlflow.ts';
import { policyCommands } from './policy-admin.ts';
import { initCommands } from './init.ts';
import { openCliStore, withServices } from './services.ts';
import { REASONS } from '../model/decision.ts';
import { flag, type Command, type CommandInput } from './command.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
const ROOT = resolve(import.meta.dirname, '../..');

async function readSecretFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const commands: Record<string, Command> = {
  serve: {
    summary: 'run the gateway',
    usage: 'gatehouse serve [-c config.yaml]\n\nStarts the public listener in front of MLflow. SIGINT/SIGTERM drain and stop it.',
    async run({ config, configFile }) {
      // Loaded only here: the other commands start in a fraction of the time without the gateway's modules.
      const { startGatehouse } = await import('../main.ts');
      // Streamed bodies pay for their own garbage, so the young generation can stay large (src/lib/memory.ts).
      const { startMemoryGovernor } = await import('../lib/memory.ts');
      startMemoryGovernor();
      const { createLogger } = await import('../lib/logger.ts');
      const { guardProcess } = await import('../lib/dependency-errors.ts');
      const log = createLogger(config!.log.level);
      // This process is the gateway: a dependency's connection error nobody handled must not end it.
      guardProcess(log);
      // Shown once, when the first administrator is made: at start, or when a store down at start comes back.
      const onBootstrap = (admin: { username?: string; generatedPassword?: string }) => {
        const lines = [
          '',
          '==================================================================',
          ` Gatehouse created the first administrator: ${admin.username}`,
          admin.generatedPassword
            ? ` Generated password (shown once, store it now): ${admin.generatedPassword}`
            : ' Password: the one given in GATEHOUSE_ADMIN_PASSWORD(_FILE)',
          '==================================================================',
          '',
        ];
        out(lines.join('\n'));
      };
      const gh = await startGatehouse(config!, { configFile, log, onBootstrap });
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          err(`gatehouse: ${signal}, draining`);
          void gh.close(config!.server.drainTimeoutMs, config!.server.drainDelayMs).then(done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      return 0;
    },
  },
  'config check': {
    summary: 'validate a configuration file (all problems at once)',
    usage: 'gatehouse config check [-c config.yaml] [--json]\n\nExit code 0 when valid, 2 with every problem and its dotted path otherwise.',
    async run({ config, values, configFile }) {
      if (values.json) out(JSON.stringify({ valid: true, file: configFile ?? null, config }, null, 2));
      else out(`configuration ${configFile ?? '(defaults + environment)'} is valid`);
      return 0;
    },
  },
  migrate: {
    summary: 'apply pending store schema migrations (for store.migrate: never)',
    writes: true,
    usage:
      'gatehouse migrate [-c config.yaml]\n\nApplies the store migrations this version knows and the store lacks, then exits (0). On PostgreSQL it\ntakes the same advisory lock as a starting gateway, so it is safe while replicas run or start.',
    async run({ config }) {
      const applied = await migrateStore({ ...config!.store, migrate: 'on-start', dataDir: config!.dataDir });
      out(applied.length > 0 ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'store schema is up to date');
      return 0;
    },
  },
  'routes list': {
    summary: 'print the MLflow route table',
    usage: 'gatehouse routes list [--json]',
    needsConfig: false,
    async run({ values }) {
      if (values.json) out(JSON.stringify(MLFLOW_ROUTES.map(describedRow), null, 2));
      else for (const r of MLFLOW_ROUTES) out(`${r.method.padEnd(6)} ${(r.version ? `/{api,ajax-api}/${r.version}.0` : '') + r.path}  ${r.op}  ${r.action}`);
      return 0;
    },
  },
  'routes check': {
    summary: 'compare the route table with the installed MLflow server',
    usage:
      'gatehouse routes check [--python PATH] [--json]\n\nRuns scripts/mlflow/list_routes.py with the given Python (default .tools/mlflow-venv/bin/python)\nand reports routes MLflow serves that the table lacks, and rows MLflow no longer serves. Exit 1 on any difference.',
    needsConfig: false,
    options: { python: { type: 'string' } },
    async run({ values }) {
      const python = (values.python as string | undefined) ?? join(ROOT, '.tools/mlflow-venv/bin/python');
      if (!existsSync(python)) {
        err(`no Python at ${python}; run scripts/mlflow-venv first or pass --python`);
        return 2;
      }
      const listed = JSON.parse(
        execFileSync(python, [join(ROOT, 'scripts/mlflow/list_routes.py')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }),
      ) as { mlflow: string; routes: ConcreteRoute[] };
      const diff = diffRoutes(MLFLOW_ROUTES, listed.routes);
      const ok = diff.missing.length + diff.stale.length + diff.duplicated.length === 0;
      if (values.json) out(JSON.stringify({ mlflow: listed.mlflow, ok, tableRoutes: expandTable(MLFLOW_ROUTES).length, ...diff }, null, 2));
      else {
        out(`MLflow ${listed.mlflow}: ${listed.routes.length} routes served, ${expandTable(MLFLOW_ROUTES).length} in the table`);
        for (const r of diff.missing) out(`  served by MLflow, not in the table (denied): ${r.method} ${r.path}`);
        for (const r of diff.stale) out(`  in the table, not served by MLflow: ${r.method} ${r.path}`);
        for (const r of diff.duplicated) out(`  in the table twice: ${r.method} ${r.path}`);
        out(ok ? 'route table matches' : 'route table differs');
      }
      return ok ? 0 : 1;
    },
  },
  ...auditCommands,
  ...tokenCommands,
  ...sessionCommands,
  ...approvalCommands,
  ...scimTokenCommands,
  ...identityCommands,
  ...importCommands,
  ...policyCommands,
  ...initCommands,
  'policy explain': {
    summary: 'can principal P do operation O on resource R in tenant T, and why',
    usage: [
      'gatehouse policy explain --principal NAME --op OPERATION_ID [options] [--json]',
      '',
      'Asks the same engine the gateway uses. Options:',
      '  --principal WHO          <provider id>:<subject>, the principal id as in the audit log (corp:8f2c..., ldap:alice),',
      '                           or a local user or service account name (local users: admin flag read from the store)',
      '  --name NAME              with an identity: the user name its provider asserts (counts only where that',
      '                           provider has assertsLocalNames)',
      '  --service-account        the principal is a service account',
      '  --groups a,b             groups the identity provider would assert',
      '  --op OPERATION_ID        e.g. runs.logMetric (see docs/routes.md)',
      '  --tenant NAME            tenant (MLflow workspace); default: the principal\'s default tenant',
      '  --experiment-id ID       the experiment the call touches (runs resolve to their experiment)',
      '  --experiment-name NAME   its name, for name-pattern bindings',
      '  --model NAME             the registered model or prompt the call touches',
      'Exit code 0 when allowed, 1 when denied.',
    ].join('\n'),
    options: {
      principal: { type: 'string' },
      name: { type: 'string' },
      'service-account': { type: 'boolean' },
      groups: { type: 'string' },
      op: { type: 'string' },
      tenant: { type: 'string' },
      'experiment-id': { type: 'string' },
      'experiment-name': { type: 'string' },
      model: { type: 'string' },
    },
    async run(input) {
      const { config, values } = input;
      const name = values.principal as string | undefined;
      const op = values.op as string | undefined;
      if (!name || !op) {
        err('--principal and --op are required');
        return 2;
      }
      if (routeOfOp(op) === undefined) {
        err(`unknown operation ${op} (see gatehouse routes list)`);
        return 2;
      }
      const store = await openCliStore(input);
      const [user, snapshot] = await Promise.all([store.findUserByName(name), storedPolicy(config!, store)]).finally(() => store.close());
      const asserted = assertedLocalName(config!.auth, name, values.name as string | undefined);
      if (values.name !== undefined && asserted === undefined) err(`note: --name ${values.name as string} is ignored: ${name} is not an identity of a provider with assertsLocalNames`);
      const decision = explain(snapshot, {
        principal: name,
        localName: asserted,
        serviceAccount: Boolean(values['service-account']),
        groups: ((values.groups as string | undefined) ?? '').split(',').filter(Boolean),
        admin: user?.admin ?? false,
        op,
        tenant: values.tenant as string | undefined,
        experimentId: values['experiment-id'] as string | undefined,
        experimentName: values['experiment-name'] as string | undefined,
        model: values.model as string | undefined,
      }, tenancyMode(config!.tenancy), config!.approvals.rules)!;
      const { tenant, tenants: mine, bindings } = decision;
      if (values.json) out(JSON.stringify(decision, null, 2));
      else {
        out(`${decision.effect.toUpperCase()}: ${name} ${op} (${decision.action}) in tenant ${tenant ?? '(none)'}`);
        for (const r of decision.reasons) out(`  reason ${r}: ${REASONS[r]}`);
        for (const b of bindings) out(`  binding ${b.id}: ${b.effect} ${b.role} to ${JSON.stringify(b.subject)} at ${JSON.stringify(b.scope)}`);
        out(`  ${name} belongs to: ${mine.join(', ') || '(no tenant)'}`);
        for (const r of decision.approvals) out(`  needs approval (rule ${r.name}) for aliases ${r.aliases.join(', ')}: ${r.required === 2 ? 'two distinct people' : 'one person'} among ${approversText(r.approvers)}${r.selfApproval ? ' (the requester may approve their own)' : ''}`);
      }
      return decision.effect === 'allow' ? 0 : 1;
    },
  },
  'users list': {
    summary: 'list local users',
    usage: 'gatehouse users list [--json]',
    run: (input) =>
      withServices(input, async (services) => {
        const users = await services.users.list();
        if (input.values.json) out(JSON.stringify(users, null, 2));
        else for (const u of users) out(`${u.username}${u.admin ? ' (admin)' : ''}${u.disabled ? ' (disabled)' : ''}`);
        return 0;
      }),
  },
  'users add': {
    summary: 'create a local user (password from stdin, or generated)',
    writes: true,
    usage: 'gatehouse users add <username> [--admin] [--password-stdin] [--json]\n\nWithout --password-stdin a password is generated and printed once.',
    options: { admin: { type: 'boolean' }, 'password-stdin': { type: 'boolean' } },
    async run(input) {
      return setUser(input, 'add');
    },
  },
  'users set-password': {
    summary: "set a local user's password (from stdin, or generated); ends its browser sessions",
    writes: true,
    usage: 'gatehouse users set-password <username> [--password-stdin] [--json]',
    options: { 'password-stdin': { type: 'boolean' } },
    async run(input) {
      return setUser(input, 'set-password');
    },
  },
  'users update': {
    summary: 'make a local user an administrator or not, disable or re-enable it',
    writes: true,
    usage: [
      'gatehouse users update <username> [--admin true|false] [--disabled true|false] [--json]',
      '',
      'A change ends the user\'s browser sessions; a disabled user\'s tokens stop on their next use. The last',
      'enabled platform administrator cannot be demoted or disabled.',
    ].join('\n'),
    options: { admin: { type: 'string' }, disabled: { type: 'string' } },
    async run(input) {
      const username = input.positionals[0];
      const admin = flag(input.values.admin);
      const disabled = flag(input.values.disabled);
      if (!username || admin === null || disabled === null) return usage('a user name, and --admin / --disabled as true or false');
      return withServices(input, async (services, actor) => {
        const u = await services.users.update(actor, username, { admin, disabled });
        if (input.values.json) out(JSON.stringify(u));
        else out(`${u.username}${u.admin ? ' (admin)' : ''}${u.disabled ? ' (disabled)' : ''}`);
        return 0;
      });
    },
  },
  'admin restore': {
    writes: true,
    summary: 'break-glass: re-enable or create an administrator with a one-time password (no gateway needed)',
    usage: [
      'gatehouse admin restore <username> [--expires-minutes N] [--json]',
      '',
      'Works on the store directly. Makes <username> an enabled platform administrator (creating it when',
      'missing), ends its sessions and prints a generated password once; the password stops working after',
      '--expires-minutes (default 60, at most 1440): sign in and set a new one (console, admin API or',
      '`gatehouse users set-password`). The admin event user.restore is written to the store\'s audit journal',
      'in the same transaction: when it cannot be written, nothing changes and the command fails.',
    ].join('\n'),
    options: { 'expires-minutes': { type: 'string' } },
    async run(input) {
      const username = input.positionals[0];
      const minutes = input.values['expires-minutes'] === undefined ? 60 : Number(input.values['expires-minutes']);
      if (!username) return usage('a user name is required');
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) return usage('--expires-minutes: a whole number from 1 to 1440');
      return withServices(input, async (services, actor) => {
        const expiresAt = Date.now() + minutes * 60_000;
        const r = await services.users.restore(actor, username, expiresAt);
        const expires = new Date(expiresAt).toISOString();
        if (input.values.json) out(JSON.stringify({ username: r.username, created: r.created, password: r.password, expiresAt: expires }));
        else out(`${r.username}: ${r.created ? 'created' : 'restored'} as an enabled administrator; one-time password (expires ${expires}, shown once): ${r.password}`);
        return 0;
      });
    },
  },
  'users delete': {
    summary: 'delete a local user with its grants, group and tenant memberships, tokens and sessions',
    writes: true,
    usage: 'gatehouse users delete <username>\n\nThe last enabled platform administrator cannot be deleted.',
    async run(input) {
      const username = input.positionals[0];
      if (!username) return usage('a user name is required');
      return withServices(input, async (services, actor) => {
        await services.users.delete(actor, username);
        out(`user ${username} deleted`);
        return 0;
      });
    },
  },
};

function usage(text: string): number {
  err(text);
  return 2;
}

async function setUser(input: CommandInput, mode: 'add' | 'set-password'): Promise<number> {
  const { values, positionals } = input;
  const username = positionals[0];
  if (!username || !/^[A-Za-z0-9._@-]{1,128}$/.test(username)) return usage('a user name (letters, digits, . _ @ -) is required');
  const generated = !values['password-stdin'];
  const given = generated ? undefined : await readSecretFromStdin();
  return withServices(input, async (services, actor) => {
    const password =
      mode === 'add'
        ? (await services.users.create(actor, { username, password: given, admin: Boolean(values.admin) })).generatedPassword
        : (await services.users.setPassword(actor, username, given)).generatedPassword;
    if (values.json) out(JSON.stringify({ username, ...(password !== undefined && { password }) }));
    else out(password !== undefined ? `${username}: generated password (shown once): ${password}` : `${username}: password set`);
    return 0;
  });
}

/** Who may approve under a rule, in words (policy explain). */
function approversText(a: { readonly roles: readonly string[]; readonly groups: readonly string[]; readonly tenantAdmins: boolean }): string {
  return [...a.roles.map((r) => `role ${r} in the tenant`), ...a.groups.map((g) => `group ${g}`), ...(a.tenantAdmins ? ['tenant admins'] : [])].join(', ');
}
