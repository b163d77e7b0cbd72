/**
 * TLS on the public listener (`server.tls`), optionally with client certificates checked
 * against a CA bundle: `require` refuses the handshake without a valid certificate, `request`
 * lets a connection without one proceed to the other identity providers (the `mtls` provider
 * only ever reads a certificate the handshake verified). Files are read once at start.
 */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { z } from 'zod';

export const tlsSchema = z
  .strictObject({
    certFile: z.string().min(1).describe('PEM server certificate (with its intermediates, leaf first).'),
    keyFile: z.string().min(1).describe('PEM private key of the server certificate.'),
    caFile: z.string().min(1).optional().describe('PEM CA bundle that client certificates must chain to; required unless `clientCertificates` is `none`.'),
    clientCertificates: z
      .enum(['none', 'request', 'require'])
      .default('none')
      .describe(
        '`none`: no client certificates. `request`: ask for one; a connection without one (or, for the `mtls` provider, with an untrusted one) falls to the other providers. `require`: the TLS handshake fails without a certificate that chains to `caFile`.',
      ),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted.'),
  })
  .refine((t) => t.clientCertificates === 'none' || t.caFile !== undefined, {
    message: 'caFile is required when clientCertificates is request or require',
    path: ['caFile'],
  })
  .optional()
  .describe('Serve the public listener over HTTPS. Absent: plain HTTP (put TLS in front). Not reloaded: restart to change certificates.');

export type TlsConfig = NonNullable<z.infer<typeof tlsSchema>>;

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`server.tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** The `tls.createServer` options for a validated `server.tls`. */
export function tlsServerOptions(tls: TlsConfig): TlsOptions {
  const mode = tls.clientCertificates;
  return {
    cert: read(tls.certFile, 'certFile'),
    key: read(tls.keyFile, 'keyFile'),
    ...(tls.caFile !== undefined && mode !== 'none' && { ca: read(tls.caFile, 'caFile') }),
    minVersion: tls.minVersion,
    requestCert: mode !== 'none',
    rejectUnauthorized: mode === 'require',
  };
}
