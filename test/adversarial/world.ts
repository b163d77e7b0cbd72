/**
 * A small MLflow world for the adversarial suite: a recording stub upstream with workspaces
 * on, a few experiments and runs per workspace, and an in-process gateway with users whose
 * roles differ. The stub reads experiment ids the way MLflow does (Python `int()`), so a
 * test can show what MLflow WOULD have served had the gateway let a request through.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, jsonOk, type StubHandler, type StubUpstream, type Recorded } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';

export const PASSWORD = 'adversary-password-1';
export const users = ['alice', 'bob', 'vera', 'mona', 'nora', 'ella'] as const;
export const auth = (u: (typeof users)[number]) => basic(u, PASSWORD);

/** Experiments: id → [workspace, name]. */
export const EXPERIMENTS: Record<string, [string, string]> = {
  '1': ['team-a', 'a-public'],
  '5': ['team-a', 'a-secret'],
  '9': ['team-b', 'b-exp'],
};
/** Runs: id → experiment id. */
export const RUNS: Record<string, string> = { ra1: '1', ra5: '5', rb9: '9' };

/** Python's `int(str)`: whitespace, sign, underscores between digits and any Unicode decimal digit. */
export function pyInt(s: string): number | undefined {
  const t = s.trim();
  if (!/^[+-]?\p{Nd}+(_\p{Nd}+)*$/u.test(t)) return undefined;
  const ascii = t.replace(/_/g, '').replace(/\p{Nd}/gu, (d) => {
    const cp = d.codePointAt(0)!;
    for (const zero of [0x30, 0x660, 0x6f0, 0x966, 0xff10]) if (cp >= zero && cp <= zero + 9) return String(cp - zero);
    return 'x'; // another script's digit: not modelled, reads as invalid
  });
  const n = Number(ascii);
  return Number.isFinite(n) ? n : undefined;
}

function answer(res: Parameters<StubHandler>[1], status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** MLflow-like answers for what the gateway looks up; everything else is jsonOk. */
export const worldHandler: StubHandler = (req, res, r) => {
  const url = new URL(req.url!, 'http://x');
  const ws = String(req.headers['x-mlflow-workspace'] ?? 'default');
  const p = url.pathname;
  if (p === '/api/3.0/mlflow/server-info') return answer(res, 200, { workspaces_enabled: true });
  if (p === '/api/3.0/mlflow/workspaces') return answer(res, 200, { workspaces: [{ name: 'default' }, { name: 'team-a' }, { name: 'team-b' }] });
  const notFound = () => answer(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'not found' });
  if (req.method === 'GET' && p.endsWith('/mlflow/experiments/get')) {
    const id = pyInt(url.searchParams.get('experiment_id') ?? '');
    const e = id === undefined ? undefined : EXPERIMENTS[String(id)];
    if (!e || e[0] !== ws) return notFound();
    return answer(res, 200, { experiment: { experiment_id: String(id), name: e[1] } });
  }
  if (req.method === 'GET' && p.endsWith('/mlflow/experiments/get-by-name')) {
    const name = url.searchParams.get('experiment_name');
    const hit = Object.entries(EXPERIMENTS).find(([, [w, n]]) => w === ws && n === name);
    return hit ? answer(res, 200, { experiment: { experiment_id: hit[0], name } }) : notFound();
  }
  if (req.method === 'GET' && p.endsWith('/mlflow/runs/get')) {
    const run = url.searchParams.get('run_id') ?? url.searchParams.get('run_uuid') ?? '';
    const exp = RUNS[run];
    if (!exp || EXPERIMENTS[exp]![0] !== ws) return notFound();
    return answer(res, 200, { run: { info: { run_id: run, experiment_id: exp, artifact_uri: `mlflow-artifacts:/workspaces/${ws}/${exp}/${run}/artifacts` } } });
  }
  if (p.endsWith('/mlflow/experiments/search')) {
    // As if a filter injection made MLflow return everything, every workspace included.
    return answer(res, 200, { experiments: Object.entries(EXPERIMENTS).map(([id, [, name]]) => ({ experiment_id: id, name })) });
  }
  return jsonOk(req, res, r);
};

export interface World {
  readonly stub: StubUpstream;
  readonly gh: InProcess;
  /** Requests the gateway forwarded (its own lookups and probes carry no X-Forwarded-For). */
  forwarded(): Recorded[];
  /** Asserts that nothing since the last reset reached MLflow. */
  nothingForwarded(what: string): void;
  reset(): void;
  close(): Promise<void>;
}


/**
 * alice: contributor in team-a, with an explicit deny on experiment 5 (a-secret);
 * bob: contributor in team-b; vera: viewer in team-a; mona: model-approver in team-a;
 * nora: member of team-a with no role; ella: viewer of team-a's experiments named `a-pub*` only.
 */
export async function startWorld(overrides: Record<string, unknown> = {}): Promise<World> {
  const stub = await startStub(worldHandler);
  const gh = await startInProcess(stub.url, {
    tenants: [
      { name: 'team-a', members: { users: ['alice', 'vera', 'mona', 'nora', 'ella'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'viewer', effect: 'deny', user: 'alice', tenant: 'team-a', experiment: { id: '5' } },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
      { role: 'viewer', user: 'vera', tenant: 'team-a' },
      { role: 'model-approver', user: 'mona', tenant: 'team-a' },
      { role: 'viewer', user: 'ella', tenant: 'team-a', experiment: { namePattern: 'a-pub*' } },
    ],
    'rateLimits.enabled': false,
    ...overrides,
  });
  const hash = await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 });
  for (const u of users) await gh.store.createUser({ username: u, passwordHash: hash, admin: false });
  const forwarded = () => stub.requests.filter((r) => r.headers['x-forwarded-for'] !== undefined);
  return {
    stub,
    gh,
    forwarded,
    nothingForwarded: (what) => assert.deepEqual(forwarded().map((r) => `${r.method} ${r.url}`), [], `${what} reached MLflow`),
    reset: () => void (stub.requests.length = 0),
    async close() {
      await gh.close();
      await stub.close();
    },
  };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request through node:http, which sends the target and headers exactly as given. */
export function send(base: string, method: string, path: string, headers: Record<string, string | string[]> = {}, body?: string | Buffer): Promise<RawAnswer> {
  const u = new URL(base);
  const h: Record<string, string | string[]> = { ...headers };
  if (body !== undefined && h['content-length'] === undefined && h['transfer-encoding'] === undefined) h['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers: h, setHost: h.host === undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** JSON POST shorthand. */
export const post = (base: string, path: string, who: string, json: unknown, more: Record<string, string> = {}) =>
  send(base, 'POST', path, { authorization: who, 'content-type': 'application/json', ...more }, typeof json === 'string' ? json : JSON.stringify(json));

/** The MLflow error code of a refusal. */
export const errorCode = (a: RawAnswer): string | undefined => {
  try {
    return (JSON.parse(a.body) as { error_code?: string }).error_code;
  } catch {
    return undefined;
  }
};

/** Raw bytes over TCP; resolves with everything the server sent until it closed or went quiet. */
export function rawExchange(base: string, bytes: string | Buffer, quietMs = 400): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    sock.on('connect', () => {
      sock.write(bytes);
      arm();
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', (e) => (chunks.length > 0 ? done() : reject(e)));
  });
}

/** Status codes of every HTTP response in a raw exchange, in order. */
export const statuses = (raw: string): number[] => [...raw.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
