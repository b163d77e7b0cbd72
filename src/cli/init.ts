/**
 * `gatehouse init`: writes a commented starter configuration (the same text as
 * docs/config-example.yaml, kept equal by a test) and creates the first administrator in the
 * store exactly as `serve` would (src/identity/bootstrap-admin.ts).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from './command.ts';
import { cliActor } from '../services/context.ts';
import { recordBootstrapAdmin } from '../services/users.ts';
import { cliServices } from './services.ts';
import { loadConfig } from '../config/load.ts';
import { openStore } from '../store/store.ts';
import { bootstrapAdmin, type BootstrapResult } from '../identity/bootstrap-admin.ts';

/** Every live key exists in src/config/schema.ts; the commented blocks are examples to uncomment. */
export const STARTER_CONFIG = `# Gatehouse configuration, written by \`gatehouse init\`.
# Every option, its default and its environment override: docs/config.md.
# Check this file with: gatehouse config check -c <this file>
# Any option can also be set as GATEHOUSE_<SECTION>__<KEY> (GATEHOUSE_MLFLOW__URL=...).

# Embedded store (SQLite) and local state such as audit files; relative to the working directory.
dataDir: ./.data

# The MLflow tracking server behind Gatehouse. Bind MLflow to loopback or a cluster-internal
# address so that only Gatehouse reaches it.
mlflow:
  url: http://127.0.0.1:5000

server:
  # MLflow traffic, the login page, the admin API and console.
  public:
    host: 0.0.0.0
    port: 8080
  # /metrics for Prometheus: keep it off the public network.
  internal:
    host: 127.0.0.1
    port: 9090
  # tls:
  #   certFile: /etc/gatehouse/tls.crt
  #   keyFile: /etc/gatehouse/tls.key

store:
  driver: sqlite
  # driver: postgres
  # urlFile: /run/secrets/gatehouse-postgres-url

auth:
  # Tried in order; the first provider that recognises the credentials decides.
  providers:
    # API tokens (gth_pat_..., gth_sat_...) as Bearer or Basic password; list it before local and ldap.
    # Without it no token is minted (tokens create, the console and the admin API refuse).
    - type: token

    # Local users with HTTP Basic (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).
    # \`gatehouse init\` and the first \`serve\` create the administrator here.
    - type: local

    # Bearer JWTs from an OIDC identity provider (or the Kubernetes API server).
    # - type: oidc
    #   issuer: https://idp.example.com/realms/main
    #   audience: gatehouse
    #   claims:
    #     groups: groups

    # LDAP / Active Directory users with HTTP Basic.
    # - type: ldap
    #   url: ldaps://ldap.example.com:636
    #   userDnTemplate: uid={username},ou=people,dc=example,dc=com
    #   groups:
    #     base: ou=groups,dc=example,dc=com

# Policy as code. Tenants, groups, roles and bindings below are reloaded without a restart when
# this file changes or on SIGHUP (the diff is logged; an invalid file keeps the old policy).
tenancy:
  # workspace: a tenant is an MLflow workspace (MLflow started with --enable-workspaces).
  # tag: any MLflow; a tenant is the value of a protected tag on experiments and registered models
  #      (tagKey, default gatehouse.tenant). instance: each tenant has its own MLflow (tenants[].mlflowUrl).
  mode: workspace
  defaultTenant: default

tenants:
  - name: default
    members:
      users: []
      groups: []
  # - name: team-a
  #   defaultRole: viewer
  #   members:
  #     groups: [team-a]

# Local groups, on top of the groups identity providers assert.
groups: []
  # - name: ml-team
  #   members: [alice, bob]

# Custom roles, besides the built-in viewer, contributor, model-approver and admin.
roles: []
  # - name: run-logger
  #   description: log runs, read models
  #   levels: { experiment: EDIT, model: READ }

# Who gets which role where. Explicit deny wins; otherwise default deny.
bindings: []
  # - { role: contributor, group: ml-team, tenant: default }
  # - { role: viewer, user: alice, tenant: default }
  # - { role: model-approver, user: carol, tenant: default, model: { namePattern: "prod-*" } }
  # - { role: contributor, effect: deny, user: mallory }

audit:
  mode: best-effort
  sinks:
    # JSON lines with a hash chain, rotated; default path <dataDir>/audit/audit.jsonl.
    - type: file
    # - type: stdout

log:
  level: info
`;

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

export const initCommands: Record<string, Command> = {
  init: {
    summary: 'write a commented starter config and create the first administrator',
    usage: [
      'gatehouse init [-c gatehouse.yaml] [--force] [--json]',
      '',
      'Writes a commented configuration (default ./gatehouse.yaml; refuses to overwrite an existing file',
      'without --force), then creates the administrator in the store it configures, as `serve` would:',
      'GATEHOUSE_ADMIN_USER (default admin), password from GATEHOUSE_ADMIN_PASSWORD(_FILE) or generated',
      'and printed once. Exit 0 on success, 1 when the file exists, 2 when the result is not a valid config.',
    ].join('\n'),
    needsConfig: false,
    options: { force: { type: 'boolean' } },
    async run({ values, configFlag }) {
      // Never a file found elsewhere (the quickstart's): init writes where it is told, or here.
      const file = resolve(configFlag ?? (process.env.GATEHOUSE_CONFIG || 'gatehouse.yaml'));
      try {
        // 'wx' fails when the file exists, with no window between a check and the write.
        writeFileSync(file, STARTER_CONFIG, { flag: values.force ? 'w' : 'wx', mode: 0o640 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        err(`${file} exists; pass --force to overwrite it`);
        return 1;
      }
      // Environment overrides apply, as they will for `serve` (GATEHOUSE_DATA_DIR, store settings).
      const config = loadConfig({ file });
      const local = config.auth.providers.find((p) => p.type === 'local');
      let admin: BootstrapResult = { created: false };
      if (local) {
        const store = await openStore({ ...config.store, dataDir: config.dataDir });
        const { services, close } = cliServices(config, file, store);
        try {
          admin = await bootstrapAdmin(store, process.env, local.scrypt);
          if (admin.created) await recordBootstrapAdmin(services.deps, cliActor(), admin.username!);
        } finally {
          await close();
          await store.close();
        }
      }
      if (values.json) {
        out(JSON.stringify({ file, admin: { created: admin.created, ...(admin.username && { username: admin.username }), ...(admin.generatedPassword && { password: admin.generatedPassword }) } }));
        return 0;
      }
      out(`wrote ${file}`);
      if (!admin.created) out('the store already has an administrator; none created');
      else if (admin.generatedPassword) out(`created administrator ${admin.username}; generated password (shown once, store it now): ${admin.generatedPassword}`);
      else out(`created administrator ${admin.username} with the password from GATEHOUSE_ADMIN_PASSWORD(_FILE)`);
      out(`next: gatehouse serve -c ${file}`);
      return 0;
    },
  },
};
