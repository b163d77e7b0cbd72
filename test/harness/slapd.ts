/**
 * A real OpenLDAP `slapd` for tests (Debian's package; `scripts/test` installs it): loopback
 * ports for both ldap:// (StartTLS offered) and ldaps://, a CA and a server certificate for
 * 127.0.0.1/localhost generated with openssl, the memberof overlay, and a seeded directory
 * (inetOrgPerson users with slappasswd hashes, groupOfNames groups, a service account).
 * `stop()`/`start()` take the directory down and bring it back on the same ports.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export const BASE = 'dc=example,dc=test';
export const PEOPLE = `ou=people,${BASE}`;
export const GROUPS = `ou=groups,${BASE}`;
export const ADMINS_GROUP = `cn=mlflow-admins,${GROUPS}`;
export const READERS_GROUP = `cn=mlflow-readers,${GROUPS}`;
export const SERVICE_DN = `cn=gatehouse,ou=services,${BASE}`;
export const SERVICE_PASSWORD = 'service-password-0123';
const ROOT_DN = `cn=admin,${BASE}`;
const ROOT_PASSWORD = 'root-password-0123';

/** Seeded users: uid → password and groups (by cn). */
export const USERS = {
  alice: { password: 'alice-password-0123', groups: ['mlflow-admins'], mail: 'alice@example.test' },
  rita: { password: 'rita-password-0123', groups: ['mlflow-readers'], mail: 'rita@example.test' },
  // Shares its name with the gateway's local administrator: local must own it.
  admin: { password: 'ldap-admin-password-0123', groups: ['mlflow-admins'], mail: 'admin@example.test' },
  // A name that needs RFC 4514 escaping inside a DN.
  'o,malley': { password: 'omalley-password-0123', groups: ['mlflow-admins'], mail: 'omalley@example.test' },
} as const;

export interface Slapd {
  readonly ldapUrl: string;
  readonly ldapsUrl: string;
  /** PEM of the CA that signed the server certificate. */
  readonly caFile: string;
  /** PEM of an unrelated CA (for "wrong CA" tests). */
  readonly otherCaFile: string;
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The slapd binary must exist (scripts/test installs it); a missing one fails, never skips. */
function requireTool(bin: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore', env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  } catch {
    throw new Error(`${bin} is missing: run ./scripts/test (it installs slapd and ldap-utils) or apt-get install -y slapd ldap-utils`);
  }
}

const sbin = (bin: string) => `/usr/sbin/${bin}`;
const ssha = (password: string) => execFileSync(sbin('slappasswd'), ['-s', password], { encoding: 'utf8' }).trim();

function makeCerts(dir: string): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const ca of ['ca', 'other-ca']) {
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=Gatehouse test ${ca}`);
  }
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
}

function seedLdif(): string {
  const entries = [
    `dn: ${BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example`,
    ...['people', 'groups', 'services'].map((ou) => `dn: ou=${ou},${BASE}\nobjectClass: organizationalUnit\nou: ${ou}`),
    `dn: ${SERVICE_DN}\nobjectClass: inetOrgPerson\ncn: gatehouse\nsn: service\nuserPassword: ${ssha(SERVICE_PASSWORD)}`,
    ...Object.entries(USERS).map(
      ([uid, u]) =>
        `dn: uid=${uid.replace(',', '\\,')},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nmail: ${u.mail}\nuserPassword: ${ssha(u.password)}`,
    ),
    ...['mlflow-admins', 'mlflow-readers'].map((cn) => {
      const members = Object.entries(USERS).filter(([, u]) => (u.groups as readonly string[]).includes(cn));
      return `dn: cn=${cn},${GROUPS}\nobjectClass: groupOfNames\ncn: ${cn}\n${members.map(([uid]) => `member: uid=${uid.replace(',', '\\,')},${PEOPLE}`).join('\n')}`;
    }),
  ];
  return entries.join('\n\n') + '\n';
}

export async function startSlapd(): Promise<Slapd> {
  for (const bin of ['slapd', 'slappasswd', 'ldapadd', 'openssl']) requireTool(bin);
  const dir = mkdtempSync(join(tmpdir(), 'gh-slapd-'));
  mkdirSync(join(dir, 'db'));
  makeCerts(dir);
  const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'slapd.conf'),
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload memberof',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `TLSCACertificateFile ${join(dir, 'ca.pem')}`,
      `TLSCertificateFile ${join(dir, 'server.pem')}`,
      `TLSCertificateKeyFile ${join(dir, 'server.key')}`,
      'database mdb',
      `suffix "${BASE}"`,
      `rootdn "${ROOT_DN}"`,
      `rootpw ${ssha(ROOT_PASSWORD)}`,
      `directory ${join(dir, 'db')}`,
      'maxsize 104857600',
      'overlay memberof',
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by * read',
    ].join('\n') + '\n',
  );
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child) return;
    output = '';
    // -d 0: stay in the foreground (no detach) so the test owns the process.
    const c = spawn(sbin('slapd'), ['-d', '0', '-f', join(dir, 'slapd.conf'), '-h', `${ldapUrl}/ ${ldapsUrl}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    let exited: string | undefined;
    c.once('exit', (code, signal) => {
      exited = `code ${code} signal ${signal}`;
      if (child === c) child = undefined;
    });
    child = c;
    const open = () =>
      new Promise<boolean>((resolve) => {
        const s = connect(ldapPort, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
    await waitFor('slapd', open, 20_000, () => exited && `${exited}\n${output.slice(-2000)}`);
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await exited;
  }

  await start();
  try {
    writeFileSync(join(dir, 'seed.ldif'), seedLdif());
    execFileSync('ldapadd', ['-x', '-H', ldapUrl, '-D', ROOT_DN, '-w', ROOT_PASSWORD, '-f', join(dir, 'seed.ldif')], { stdio: 'pipe' });
  } catch (err) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`seeding slapd failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}\n${output.slice(-2000)}`);
  }
  return {
    ldapUrl,
    ldapsUrl,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
