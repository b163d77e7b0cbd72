/** The processes the benchmarks start: the stub upstream, nginx, Gatehouse, oauth2-proxy. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../test/harness/ports.ts';
import { pin, spawnUntil, stopChild, type Child } from './util.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ADMIN_PASSWORD = 'bench-admin-password-0123';
export const ADMIN_AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

export interface Served extends Child {
  readonly url: string;
}

export async function startStubServer(cpu?: string): Promise<Served> {
  const c = await spawnUntil(process.execPath, ['--disable-warning=ExperimentalWarning', join(ROOT, 'bench/stub-server.ts')], (l) => l.startsWith('{"port"'));
  if (cpu !== undefined) pin(c.pid, cpu);
  return { ...c, url: `http://127.0.0.1:${(JSON.parse(c.line) as { port: number }).port}` };
}

/** The floor of a Node.js proxy (bench/node-proxy.ts): node:http + one undici Pool, nothing else. */
export async function startNodeProxy(upstream: string, cpu?: string): Promise<Served> {
  const c = await spawnUntil(process.execPath, ['--disable-warning=ExperimentalWarning', join(ROOT, 'bench/node-proxy.ts'), upstream], (l) => l.startsWith('{"port"'));
  if (cpu !== undefined) pin(c.pid, cpu);
  return { ...c, url: `http://127.0.0.1:${(JSON.parse(c.line) as { port: number }).port}` };
}

/**
 * nginx from Debian as a plain reverse proxy: 1 worker, upstream keepalive 128, no access log.
 * `streaming`: set up for GiB-sized bodies the way one would in front of an artifact store —
 * no body size limit, uploads streamed (not spooled to a temp file first), answers relayed
 * through 64 KiB memory buffers (never spooled to disk).
 */
export async function startNginx(upstream: string, cpu?: string, options: { streaming?: boolean } = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const port = await freePort();
  const up = new URL(upstream);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream mlflow { server ${up.hostname}:${up.port}; keepalive 128; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mlflow;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;${
        options.streaming
          ? `
      client_max_body_size 0;
      proxy_request_buffering off;
      proxy_max_temp_file_size 0;
      proxy_buffer_size 64k;
      proxy_buffers 8 64k;
      proxy_busy_buffers_size 128k;`
          : ''
      }
    }
  }
}
`,
  );
  const nginx = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  // nginx prints nothing when it starts: poll its port.
  const child = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${output.join('')}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (i > 200) throw new Error(`nginx not ready: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (cpu !== undefined) pin(child.pid!, cpu);
  return {
    process: child,
    pid: child.pid!,
    output,
    url,
    async stop() {
      await stopChild(child, 'SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface GatehouseProc extends Served {
  readonly internalUrl: string;
  readonly dataDir: string;
}

/**
 * `bin/gatehouse serve` with a configuration file (JSON is YAML) written from `config`, as an
 * operator would run it. BENCH_GATEHOUSE_NODE_OPTIONS is passed as NODE_OPTIONS (e.g. `--cpu-prof
 * --cpu-prof-dir=bench/results/profiles`).
 */
export async function startGatehouse(config: Record<string, unknown>, options: { cpu?: string; port?: number } = {}): Promise<GatehouseProc> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-gh-'));
  mkdirSync(join(dataDir, 'audit'), { recursive: true });
  const file = join(dataDir, 'gatehouse.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      server: { public: { host: '127.0.0.1', port: options.port ?? 0 }, internal: { host: '127.0.0.1', port: 0 } },
      log: { level: 'info', requests: false },
      ...config,
    }),
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_CONFIG: file, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD };
  if (process.env.BENCH_GATEHOUSE_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_GATEHOUSE_NODE_OPTIONS;
  const c = await spawnUntil(join(ROOT, 'bin/gatehouse'), ['serve'], (l) => l.includes('gatehouse listening'), { env });
  if (options.cpu !== undefined) pin(c.pid, options.cpu);
  const { url, internalUrl } = JSON.parse(c.line) as { url: string; internalUrl: string };
  return {
    ...c,
    url,
    internalUrl,
    dataDir,
    async stop() {
      await c.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Where scripts/bench builds oauth2-proxy (ensure_oauth2_proxy in scripts/lib/env.sh). */
export const OAUTH2_PROXY = join(ROOT, '.tools/oauth2-proxy/oauth2-proxy');

/**
 * oauth2-proxy as an authentication-only reverse proxy: it accepts bearer JWTs of the IdP
 * (`--skip-jwt-bearer-tokens`, audience `urn:mlflow`) and forwards to the upstream.
 */
export async function startOauth2Proxy(upstream: string, issuer: string, audience: string, cpu?: string): Promise<Served> {
  const port = await freePort();
  const c = await spawnUntil(
    OAUTH2_PROXY,
    [
      `--http-address=127.0.0.1:${port}`,
      `--upstream=${upstream}/`,
      '--provider=oidc',
      `--oidc-issuer-url=${issuer}`,
      '--client-id=web',
      '--client-secret=web-secret-0123456789',
      `--oidc-extra-audience=${audience}`,
      '--cookie-secret=0123456789abcdef0123456789abcdef',
      '--cookie-secure=false',
      '--email-domain=*',
      '--skip-jwt-bearer-tokens=true',
      '--insecure-oidc-allow-unverified-email=true',
      '--request-logging=false',
      '--auth-logging=false',
      '--standard-logging=true',
      '--skip-provider-button=true',
    ],
    (l) => l.includes('Cookie settings'),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${url}/ping`).then((r) => r.ok, () => false)); i++) {
    if (i > 200) {
      await c.stop();
      throw new Error(`oauth2-proxy not answering /ping:\n${c.output.join('\n').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (cpu !== undefined) pin(c.pid, cpu);
  return { ...c, url };
}
