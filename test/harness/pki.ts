/**
 * A throwaway PKI for TLS tests, made with the real `openssl` command in a temporary directory:
 * a test CA, a server certificate for 127.0.0.1/localhost, client certificates (a SPIFFE
 * X.509-SVID with a URI SAN, a plain CN, a second valid client), and a client certificate from
 * a different CA. Every client has PEM cert and key files plus a bundle (cert + key in one
 * file, as MLflow's `MLFLOW_TRACKING_CLIENT_CERT_PATH` hands it to requests' `cert=`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  readonly certFile: string;
  readonly keyFile: string;
  /** Cert and key in one PEM file. */
  readonly bundleFile: string;
  readonly cert: string;
  readonly key: string;
  /** RFC 8705 `x5t#S256`: base64url SHA-256 of the DER certificate. */
  readonly thumbprint: string;
}

export interface Ca {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
}

export interface Pki {
  readonly dir: string;
  readonly ca: Ca;
  readonly foreignCa: Ca;
  readonly server: Issued;
  /** URI SAN spiffe://example.org/ns/team-a/sa/trainer. */
  readonly spiffe: Issued;
  /** Subject CN=alice, no URI SAN. */
  readonly cn: Issued;
  /** Subject CN=bob: another valid client of the test CA. */
  readonly other: Issued;
  /** URI SAN spiffe://example.org/ns/team-a/sa/trainer, signed by the foreign CA. */
  readonly foreign: Issued;
  issue(name: string, options: { cn?: string; uris?: string[]; dns?: string[]; ips?: string[]; server?: boolean; ca?: Ca }): Issued;
  close(): void;
}

export const SPIFFE_ID = 'spiffe://example.org/ns/team-a/sa/trainer';

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; code?: string };
    if (e.code === 'ENOENT') throw new Error('openssl is not installed (scripts/test installs it)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

const dnConfig = (cn: string) => `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = ${cn}\n`;

function makeCa(dir: string, name: string, cn: string): Ca {
  const cnf = join(dir, `${name}.cnf`);
  writeFileSync(
    cnf,
    `${dnConfig(cn)}[v3]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n`,
  );
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  openssl(dir, ['req', '-x509', '-config', cnf, '-extensions', 'v3', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '3']);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}

export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pki-'));
  const ca = makeCa(dir, 'ca', 'Gatehouse Test CA');
  const foreignCa = makeCa(dir, 'foreign-ca', 'Some Other CA');

  function issue(name: string, o: { cn?: string; uris?: string[]; dns?: string[]; ips?: string[]; server?: boolean; ca?: Ca }): Issued {
    const signer = o.ca ?? ca;
    const cnf = join(dir, `${name}.cnf`);
    const ext = join(dir, `${name}.ext`);
    writeFileSync(cnf, dnConfig(o.cn ?? name));
    const san = [...(o.uris ?? []).map((u) => `URI:${u}`), ...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.ips ?? []).map((i) => `IP:${i}`)];
    writeFileSync(
      ext,
      [
        '[ext]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `extendedKeyUsage = ${o.server ? 'serverAuth' : 'clientAuth'}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        ...(san.length > 0 ? [`subjectAltName = ${san.join(',')}`] : []),
        '',
      ].join('\n'),
    );
    const keyFile = join(dir, `${name}-key.pem`);
    const csr = join(dir, `${name}.csr`);
    const certFile = join(dir, `${name}.pem`);
    openssl(dir, ['req', '-new', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr]);
    openssl(dir, ['x509', '-req', '-in', csr, '-CA', signer.certFile, '-CAkey', signer.keyFile, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '2', '-extfile', ext, '-extensions', 'ext', '-out', certFile]);
    const cert = readFileSync(certFile, 'utf8');
    const key = readFileSync(keyFile, 'utf8');
    const bundleFile = join(dir, `${name}-bundle.pem`);
    writeFileSync(bundleFile, cert + key);
    const thumbprint = createHash('sha256').update(new X509Certificate(cert).raw).digest('base64url');
    return { certFile, keyFile, bundleFile, cert, key, thumbprint };
  }

  return {
    dir,
    ca,
    foreignCa,
    server: issue('server', { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'], server: true }),
    spiffe: issue('spiffe', { cn: 'trainer', uris: [SPIFFE_ID] }),
    cn: issue('alice', { cn: 'alice' }),
    other: issue('bob', { cn: 'bob' }),
    foreign: issue('foreign', { cn: 'trainer', uris: [SPIFFE_ID], ca: foreignCa }),
    issue,
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
