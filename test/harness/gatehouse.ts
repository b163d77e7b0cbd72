/**
 * Gatehouse for tests, two ways: in this process (`startInProcess`, for feature suites with a
 * stub upstream) or as its own process through the real `gatehouse` command (`spawnGatehouse`,
 * for end-to-end suites and for measuring the gateway's own memory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startGatehouse, type Gatehouse, type StartOptions } from '../../src/main.ts';
import type { RequestEvent } from '../../src/pipeline/runner.ts';
import { childEnv, ROOT } from './paths.ts';
import { hashPassword } from '../../src/identity/password.ts';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'test-admin-password-0123';

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
export const ADMIN_AUTH = basic(ADMIN_USER, ADMIN_PASSWORD);

export interface InProcess extends Gatehouse {
  readonly events: RequestEvent[];
  readonly dataDir: string;
}

/** Fast scrypt parameters for tests that create many users (the defaults are for production). */
const FAST_SCRYPT = { cost: 1024, blockSize: 8, parallelization: 1 };

/** Local users sharing one password (hashed once, with the fast test parameters). */
export async function createUsers(gh: InProcess, users: readonly string[], password: string): Promise<void> {
  const passwordHash = await hashPassword(password, FAST_SCRYPT);
  for (const username of users) await gh.store.createUser({ username, passwordHash, admin: false });
}

/**
 * The common enterprise set-up used by the authorization suites: tenants team-a and team-b, the
 * groups admins (ada), readers (rita), model-approvers (mia), and contributors alice and carl in
 * team-a, bob in team-b.
 */
export const TWO_TENANTS_THREE_GROUPS = {
  users: ['ada', 'alice', 'bob', 'rita', 'mia', 'carl'],
  policy: {
    tenants: [
      { name: 'team-a', members: { groups: ['team-a'] } },
      { name: 'team-b', members: { groups: ['team-b'] } },
    ],
    groups: [
      { name: 'admins', members: ['ada'] },
      { name: 'readers', members: ['rita'] },
      { name: 'model-approvers', members: ['mia'] },
      { name: 'team-a', members: ['alice', 'rita', 'mia', 'carl'] },
      { name: 'team-b', members: ['bob'] },
    ],
    bindings: [
      { role: 'admin', group: 'admins' },
      { role: 'viewer', group: 'readers', tenant: 'team-a' },
      { role: 'model-approver', group: 'model-approvers', tenant: 'team-a' },
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'contributor', user: 'carl', tenant: 'team-a' },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
    ],
  },
} as const;

export async function startInProcess(mlflowUrl: string, overrides: Record<string, unknown> = {}, options: StartOptions = {}): Promise<InProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-data-'));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      'server.public': { host: '127.0.0.1', port: 0 },
      'server.internal': { host: '127.0.0.1', port: 0 },
      'audit.sinks': [],
      'mlflow.url': mlflowUrl,
      'auth.providers': [{ type: 'local', scrypt: FAST_SCRYPT }],
      'log.level': 'silent',
      ...overrides,
    },
  });
  const events: RequestEvent[] = [];
  const gh = await startGatehouse(config, {
    env: { GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    log: createLogger('silent'),
    onRequest: (e) => events.push(e),
    ...options,
  });
  return Object.assign(Object.create(null), gh, {
    events,
    dataDir,
    async close() {
      await gh.close(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  }) as InProcess;
}

export interface Spawned {
  readonly url: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly output: string[];
  stop(): Promise<number | null>;
}

/** Runs `bin/gatehouse serve` with configuration from the environment, as an operator would. */
export async function spawnGatehouse(mlflowUrl: string, env: Record<string, string> = {}): Promise<Spawned> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-data-'));
  const child = spawn(join(ROOT, 'bin/gatehouse'), ['serve'], {
    env: childEnv({
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_SERVER__PUBLIC__HOST: '127.0.0.1',
      GATEHOUSE_SERVER__PUBLIC__PORT: '0',
      GATEHOUSE_SERVER__INTERNAL__PORT: '0',
      GATEHOUSE_MLFLOW__URL: mlflowUrl,
      GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      GATEHOUSE_LOG__REQUESTS: 'false',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start:\n${output.join('')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`gatehouse exited ${code}:\n${output.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.includes('gatehouse listening')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    pid: child.pid!,
    process: child,
    output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Status of an MLflow call through the gateway, as `auth` in `workspace` (the body is drained). */
export async function mlflowStatus(gatewayUrl: string, method: string, path: string, auth: string, workspace: string, body?: unknown): Promise<number> {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { authorization: auth, 'x-mlflow-workspace': workspace, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

export interface JsonAnswer {
  readonly status: number;
  /** The body parsed as JSON; the text itself when it is not JSON; undefined when empty. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
  /** The body when it is a JSON object, else `{}` (artifact bytes, an empty answer): fields read as absent. */
  readonly json: Record<string, unknown>;
  readonly text: string;
  readonly headers: Headers;
}

/** One HTTP call with an optional JSON body, answered with its status and its body parsed. No redirect is followed. */
export async function callJson(url: string, method: string, headers: Record<string, string> = {}, body?: unknown): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  const json = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  return { status: res.status, body: parsed, json, text, headers: res.headers };
}

/**
 * Signs in through the login page's password form as a browser would (its CSRF token and
 * pending-login cookie, a same-origin Origin); returns the status and the session cookie's value.
 */
export async function formSignIn(gatewayUrl: string, user: string, password: string): Promise<{ status: number; session: string | undefined }> {
  const page = await fetch(`${gatewayUrl}/_gatehouse/login`);
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const next = /name="next" value="([^"]*)"/.exec(html)![1]!.replaceAll('&amp;', '&');
  const loginCookie = /gatehouse_login=([^;]+)/.exec(page.headers.getSetCookie().join('\n'))![1]!;
  const res = await fetch(`${gatewayUrl}/_gatehouse/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gatewayUrl, cookie: `gatehouse_login=${loginCookie}` },
    body: new URLSearchParams({ csrf, next, username: user, password }).toString(),
  });
  await res.arrayBuffer();
  return { status: res.status, session: /gatehouse_session=([^;]+)/.exec(res.headers.getSetCookie().join('\n'))?.[1] };
}
