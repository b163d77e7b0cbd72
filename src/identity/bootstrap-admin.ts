/**
 * Creates the first administrator when the store has none: user name from
 * `GATEHOUSE_ADMIN_USER` (default `admin`), password from `GATEHOUSE_ADMIN_PASSWORD`, or
 * `GATEHOUSE_ADMIN_PASSWORD_FILE`, or generated and shown once. Never a default password.
 */
import { readFileSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import { generatePassword, hashPassword, passwordProblems, type ScryptParams } from './password.ts';

export interface BootstrapResult {
  readonly created: boolean;
  readonly username?: string;
  /** Set only when the password was generated: the caller shows it once. */
  readonly generatedPassword?: string;
}

export async function bootstrapAdmin(store: Store, env: NodeJS.ProcessEnv, scrypt: ScryptParams): Promise<BootstrapResult> {
  if ((await store.countAdmins()) > 0) return { created: false };
  const username = env.GATEHOUSE_ADMIN_USER?.trim() || 'admin';
  let password = env.GATEHOUSE_ADMIN_PASSWORD;
  if (password === undefined && env.GATEHOUSE_ADMIN_PASSWORD_FILE) {
    password = readFileSync(env.GATEHOUSE_ADMIN_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '');
  }
  const generated = password === undefined || password === '';
  if (generated) password = generatePassword();
  const problems = passwordProblems(password!);
  if (problems.length > 0) throw new Error(`GATEHOUSE_ADMIN_PASSWORD ${problems.join(', ')}`);
  const existing = await store.findUserByName(username);
  if (existing) throw new Error(`user ${username} exists but the store has no administrator; grant it admin with the CLI`);
  await store.createUser({ username, passwordHash: await hashPassword(password!, scrypt), admin: true });
  return generated ? { created: true, username, generatedPassword: password! } : { created: true, username };
}
