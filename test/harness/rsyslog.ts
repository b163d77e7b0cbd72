/**
 * A real rsyslog for tests (Debian's `rsyslog` and `rsyslog-openssl`; `scripts/test` installs
 * them), run as this test's own process with its own configuration: two loopback listeners —
 * imtcp plain (RFC 6587) and imtcp with TLS (RFC 5425, the openssl stream driver, client
 * certificates required and checked against the test CA) — each writing what it parsed, one
 * JSON object per message (rsyslog's own RFC 5424 fields), to a file of its own.
 * `stop()`/`start()` take it down and bring it back on the same ports (outage tests).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from './paths.ts';
import type { Pki } from './pki.ts';
import { supervise } from './child.ts';
import { freePort } from './ports.ts';

/** One message as rsyslog parsed it. */
export interface Received {
  readonly pri: string;
  readonly protocol: string;
  readonly timereported: string;
  readonly hostname: string;
  readonly appname: string;
  readonly procid: string;
  readonly msgid: string;
  readonly sd: string;
  readonly msg: string;
}

export interface Rsyslog {
  readonly tcpUrl: string;
  readonly tlsUrl: string;
  /** Messages received so far on the plain or the TLS listener, in order. */
  received(listener: 'tcp' | 'tls'): Received[];
  readonly running: boolean;
  /** SIGTERM: a clean stop; SIGKILL: a crash, losing what it had not read. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const BIN = '/usr/sbin/rsyslogd';

function requireRsyslog(): void {
  if (!existsSync(BIN)) throw new Error('rsyslogd is missing: run ./scripts/test (it installs it) or apt-get install -y rsyslog rsyslog-openssl');
  const driver = execFileSync('sh', ['-c', 'ls /usr/lib/*/rsyslog/lmnsd_ossl.so 2>/dev/null || true'], { encoding: 'utf8' }).trim();
  if (driver === '') throw new Error('rsyslog\'s openssl stream driver is missing: apt-get install -y rsyslog-openssl');
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

export async function startRsyslog(pki: Pki): Promise<Rsyslog> {
  requireRsyslog();
  const dir = mkdtempSync(join(tmpdir(), 'gh-rsyslog-'));
  mkdirSync(join(dir, 'work'));
  const [tcpPort, tlsPort] = [await freePort(), await freePort()];
  const out = { tcp: join(dir, 'tcp.jsonl'), tls: join(dir, 'tls.jsonl') };
  const fields = ['pri', 'protocol-version:protocol', 'timereported', 'hostname', 'app-name:appname', 'procid', 'msgid', 'structured-data:sd', 'msg'];
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    [
      // Events may be long (admin events with their changes); rsyslog's default cuts at 8 KiB.
      `global(workDirectory="${join(dir, 'work')}" maxMessageSize="256k")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="tcp")`,
      `input(type="imtcp" address="127.0.0.1" port="${tlsPort}" ruleset="tls" streamDriver.name="ossl" streamDriver.mode="1"`,
      `  streamDriver.authMode="x509/certvalid" streamDriver.CAFile="${pki.ca.certFile}"`,
      `  streamDriver.CertFile="${pki.server.certFile}" streamDriver.KeyFile="${pki.server.keyFile}")`,
      'template(name="fields" type="list" option.jsonf="on") {',
      ...fields.map((f) => {
        const [name, as] = f.split(':');
        return `  property(outname="${as ?? name}" name="${name}"${name === 'timereported' ? ' dateFormat="rfc3339"' : ''} format="jsonf")`;
      }),
      '}',
      `ruleset(name="tcp") { action(type="omfile" file="${out.tcp}" template="fields") }`,
      `ruleset(name="tls") { action(type="omfile" file="${out.tls}" template="fields") }`,
      '',
    ].join('\n'),
  );
  // SIGTERM: rsyslog closes its listeners and connections, writes what it parsed, and exits.
  const server = supervise(
    'rsyslogd',
    () => spawn(BIN, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() }),
    async () => (await tcpOpen(tcpPort)) && (await tcpOpen(tlsPort)),
    { timeoutMs: 15_000, signal: 'SIGTERM' },
  );

  await server.start();
  return {
    tcpUrl: `tcp://127.0.0.1:${tcpPort}`,
    tlsUrl: `tls://localhost:${tlsPort}`,
    received(listener) {
      if (!existsSync(out[listener])) return [];
      return readFileSync(out[listener], 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Received);
    },
    get running() {
      return server.running;
    },
    stop: (signal) => server.stop(signal),
    start: () => server.start(),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
