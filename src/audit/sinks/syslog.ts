/**
 * Audit sink: RFC 5424 syslog over TCP (RFC 6587, octet counting) or TLS (RFC 5425) to a SIEM's
 * collector (rsyslog, syslog-ng, a SIEM agent), through the on-disk spool of the network sinks
 * (network-sink.ts). One connection, kept open and reopened with backoff when it breaks.
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { z } from 'zod';
import { deliveryFields, networkSink, receiverUrl, render, type NetworkSinkDeps } from '../network-sink.ts';
import type { Transport } from '../shipper.ts';
import type { AuditSink } from '../sink.ts';
import { octetFrame, syslogMessage, type SyslogHeader } from '../syslog.ts';

export const syslogSinkSchema = z
  .strictObject({
    type: z.literal('syslog'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics and the spool directory (default `syslog`).'),
    url: receiverUrl(/^(tcp|tls)$/)
      .refine((u) => new URL(u).port !== '', 'give the port: tcp://host:514 or tls://host:6514')
      .describe('`tcp://host:port` (RFC 6587) or `tls://host:port` (RFC 5425; the server certificate is verified against `ca`, or the system CAs, and its name against the host).'),
    ca: z.string().min(1).optional().describe('PEM file of the CA(s) that sign the receiver\'s certificate (tls); default the system CAs.'),
    cert: z.string().min(1).optional().describe('PEM file of a client certificate (tls), for receivers that authenticate senders (RFC 5425 §5.3).'),
    key: z.string().min(1).optional().describe('PEM file of the client certificate\'s key.'),
    facility: z.number().int().min(0).max(23).default(13).describe('Syslog facility (RFC 5424 §6.2.1): 13 is "log audit", 10 "authpriv", 16–23 local0–local7.'),
    hostname: z.string().min(1).optional().describe('HOSTNAME of each message; default the machine\'s host name.'),
    appName: z.string().min(1).max(48).default('gatehouse').describe('APP-NAME of each message.'),
    enterpriseId: z.number().int().min(1).default(32473).describe('Private enterprise number in the structured data id `gatehouse@<n>` (RFC 5424 §7.2.2). The default, 32473, is the number reserved for documentation (RFC 5612); set your organisation\'s own.'),
    settleMs: z.number().int().min(0).default(2_000).describe('Plain syslog has no acknowledgement: an event written to the connection counts as delivered once the connection was still up this long after (milliseconds); what was written within it before the connection broke is sent again.'),
    ...deliveryFields,
  })
  .refine((s) => s.url.startsWith('tls:') || (s.ca === undefined && s.cert === undefined && s.key === undefined), { message: 'ca, cert and key need a tls:// url', path: ['url'] })
  .refine((s) => (s.cert === undefined) === (s.key === undefined), { message: 'cert and key go together', path: ['cert'] })
  .describe('RFC 5424 syslog over TCP or TLS, spooled on disk and delivered at least once; can be required.');

export type SyslogSinkConfig = z.infer<typeof syslogSinkSchema>;

/** A connection that carries framed messages and says when the receiver went away. */
function streamTransport(config: SyslogSinkConfig, header: SyslogHeader): Transport {
  const url = new URL(config.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  const tls = url.protocol === 'tls:';
  const where = `syslog ${config.url}`;
  const secure = tls
    ? {
        ...(config.ca && { ca: readFileSync(config.ca) }),
        ...(config.cert && { cert: readFileSync(config.cert) }),
        ...(config.key && { key: readFileSync(config.key) }),
      }
    : {};
  let socket: Socket | undefined;
  let opening: Promise<Socket> | undefined;
  let broken: ((err: Error) => void) | undefined;
  let closingOurs = false;
  /** The receiver closed its side (it read everything we sent before our end). */
  let peerClosed = false;

  function open(): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const s = tls ? tlsConnect({ host, port, servername: host, ...secure }) : tcpConnect({ host, port });
      const timer = setTimeout(() => s.destroy(new Error(`${where}: no connection within ${config.timeoutMs} ms`)), config.timeoutMs);
      let up = false;
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        up = true;
        s.setKeepAlive(true, 10_000);
        resolve(s);
      });
      // A syslog receiver never writes: any end, error or close means the connection is gone.
      s.on('data', () => undefined);
      s.once('end', () => {
        peerClosed = true;
        if (closingOurs) s.destroy();
        else s.destroy(new Error(`${where}: the receiver closed the connection`));
      });
      s.on('error', (err) => {
        clearTimeout(timer);
        if (!up) reject(new Error(`${where}: ${err.message}`));
      });
      s.once('close', () => {
        clearTimeout(timer);
        if (socket !== s) return;
        socket = undefined;
        if (!closingOurs) broken?.(new Error(`${where}: the connection was lost`));
      });
    });
  }

  async function connected(): Promise<Socket> {
    if (socket && !socket.destroyed) return socket;
    opening ??= open().finally(() => (opening = undefined));
    socket = await opening;
    return socket;
  }

  return {
    settleMs: config.settleMs,
    onBroken: (listener) => void (broken = listener),
    async connect() {
      await connected();
    },
    async send(events) {
      const s = await connected();
      const buf = Buffer.concat(events.map((e) => octetFrame(syslogMessage(e.event, render(config.format, e), header))));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error(`${where}: write not taken within ${config.timeoutMs} ms`));
        }, config.timeoutMs);
        s.write(buf, (err) => {
          clearTimeout(timer);
          if (err) reject(new Error(`${where}: ${err.message}`));
          else resolve();
        });
      });
    },
    async close() {
      const s = socket;
      if (!s || s.destroyed) return false;
      closingOurs = true;
      peerClosed = false;
      // Our end of the stream first; the receiver closes its side once it has read all of it.
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => s.destroy(), config.timeoutMs);
        s.once('close', () => {
          clearTimeout(timer);
          resolve(peerClosed);
        });
        s.end();
      });
    },
  };
}

export function syslogSink(config: SyslogSinkConfig, deps: NetworkSinkDeps): AuditSink {
  const header: SyslogHeader = {
    facility: config.facility,
    hostname: config.hostname ?? hostname(),
    appName: config.appName,
    procId: String(process.pid),
    enterpriseId: config.enterpriseId,
  };
  return networkSink('syslog', config, streamTransport(config, header), deps, { size: 512, intervalMs: 0 });
}
