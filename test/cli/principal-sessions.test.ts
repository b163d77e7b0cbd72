/**
 * `gatehouse sessions list|revoke --principal ID` (issue 22): the browser sessions of a principal
 * that is no local user — here `ldap:alice`, signed in twice through the login page's password
 * form against a real OpenLDAP — listed by handle (never the cookie), one ended, then all, through
 * the sessions service; each ended session is signed out on its next request, and each end is a
 * `session.revoke` admin event of door `cli`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_AUTH, formSignIn, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { waitFor } from '../harness/ports.ts';
import { GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, startSlapd, USERS, type Slapd } from '../harness/slapd.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

let ldap: Slapd;
let stub: StubUpstream;
let gh: InProcess;
let configFile: string;

before(async () => {
  [ldap, stub] = await Promise.all([startSlapd(), startStub()]);
  const providers = [
    { type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } },
    { type: 'ldap', url: ldap.ldapsUrl, tlsCaFile: ldap.caFile, search: { bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, base: PEOPLE }, groups: { base: GROUPS } },
  ];
  gh = await startInProcess(stub.url, { 'auth.providers': providers, 'audit.sinks': [{ type: 'store' }] });
  configFile = join(gh.dataDir, 'cli.json');
  writeFileSync(configFile, JSON.stringify({ dataDir: gh.dataDir, auth: { providers } }));
});
after(async () => {
  await gh?.close();
  await stub?.close();
  await ldap?.close();
});

const cli = (...args: string[]) => spawnSync(join(ROOT, 'bin/gatehouse'), [...args, '-c', configFile], { encoding: 'utf8', env: childEnv() });
/** The session's next request: 200 while it lives, 401 once ended. */
const me = async (session: string) => (await fetch(`${gh.url}/_gatehouse/api/v1/me`, { headers: { cookie: `gatehouse_session=${session}` } })).status;

test('an IdP principal\'s sessions: listed by handle, one ended, then all; each end audited (door cli)', async () => {
  const first = await formSignIn(gh.url, 'alice', USERS.alice.password);
  const second = await formSignIn(gh.url, 'alice', USERS.alice.password);
  assert.equal(first.status, 303);
  assert.ok(first.session && second.session);
  assert.deepEqual([await me(first.session), await me(second.session)], [200, 200]);

  const listed = cli('sessions', 'list', '--principal', 'ldap:alice', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const sessions = JSON.parse(listed.stdout) as { handle: string; principal: { id: string } }[];
  assert.deepEqual(sessions.map((s) => s.principal.id), ['ldap:alice', 'ldap:alice']);
  const plain = cli('sessions', 'list', '--principal', 'ldap:alice').stdout;
  for (const secret of [first.session, second.session]) assert.ok(!listed.stdout.includes(secret) && !plain.includes(secret), 'never the cookie');

  // Handles are not in sign-in order; end the one that is not the first sign-in's, by listing what is left after.
  const [one, other] = sessions.map((s) => s.handle);
  const ended = cli('sessions', 'revoke', '--principal', 'ldap:alice', one!);
  assert.equal(ended.status, 0, ended.stderr);
  const statuses = [await me(first.session), await me(second.session)].sort();
  assert.deepEqual(statuses, [200, 401], 'exactly one session ended');
  assert.equal(cli('sessions', 'revoke', '--principal', 'ldap:bob', other!).status, 1, "another principal's handle is not found");

  const all = cli('sessions', 'revoke', '--principal', 'ldap:alice', '--all');
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /1 session\(s\) of ldap:alice ended/);
  assert.deepEqual([await me(first.session), await me(second.session)], [401, 401]);
  assert.deepEqual(JSON.parse(cli('sessions', 'list', '--principal', 'ldap:alice', '--json').stdout), []);

  assert.equal(cli('sessions', 'list', '--principal', 'not an identity').status, 2, 'an identity <provider>:<subject> is required');

  // The CLI's admin events reach the chain through the journal.
  await waitFor('the CLI\'s session.revoke events', async () => {
    const res = await fetch(`${gh.url}/_gatehouse/api/v1/audit?type=admin&operation=session.revoke`, { headers: { authorization: ADMIN_AUTH } });
    const events = ((await res.json()) as { events: { door: string; target: { kind: string; id: string } }[] }).events;
    return events.filter((e) => e.door === 'cli').map((e) => `${e.target.kind}:${e.target.id}`).sort().join(',') === [`user:ldap:alice`, `session:${one}`].sort().join(',');
  }, 10_000);
});
