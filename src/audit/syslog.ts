/**
 * Audit events as RFC 5424 syslog messages, framed by octet counting (RFC 6587 §3.4.1, which
 * RFC 5425 §4.3 prescribes for TLS too):
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [gatehouse@PEN k="v" ...] BOM{event JSON}
 *
 * PRI is the configured facility with a severity from the event's outcome; TIMESTAMP the event's
 * own time; MSGID `request` or `admin`. The structured data carries the event's facts a SIEM
 * filters on, and its place in the hash chain (seq, prev, hash); the MSG carries the whole event
 * (the native JSON line its hash covers, or its OCSF form) as UTF-8 with a BOM (RFC 5424 §6.4).
 */
import type { ChainedEvent } from './event.ts';

export interface SyslogHeader {
  /** 0–23 (RFC 5424 §6.2.1); 13 is "log audit". */
  readonly facility: number;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  /** The private enterprise number of the SD-ID `gatehouse@<n>` (RFC 5424 §7.2.2). */
  readonly enterpriseId: number;
}

/** RFC 5424 §6.2.1 severities. */
const WARNING = 4;
const NOTICE = 5;
const INFORMATIONAL = 6;
const ERROR = 3;

export function severityOf(e: ChainedEvent): number {
  if (e.type === 'admin') return e.outcome === 'denied' ? WARNING : NOTICE;
  switch (e.outcome) {
    case 'denied':
    case 'malformed':
      return WARNING;
    case 'failed':
      return ERROR;
    default:
      return INFORMATIONAL;
  }
}

/** A header field: PRINTUSASCII only (RFC 5424 §6), at most `max` characters, `-` (NILVALUE) when empty. */
export function headerField(s: string, max: number): string {
  const out = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return out === '' ? '-' : out;
}

/** A PARAM-VALUE: `"`, `\` and `]` escaped (RFC 5424 §6.3.3). */
const paramValue = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);

/** The SD-PARAMs of an event, in a fixed order; absent values are left out, repeated names allowed (§6.3.3). */
function params(e: ChainedEvent): Array<[string, string | number | null | undefined]> {
  const chain: Array<[string, string | number]> = [
    ['seq', e.seq],
    ['prev', e.prev],
    ['hash', e.hash],
  ];
  if (e.type === 'admin') {
    return [
      ['v', e.v],
      ['type', 'admin'],
      ...chain,
      ['requestId', e.requestId],
      ['door', e.door],
      ['actor', e.actor.id],
      ['action', e.action],
      ['target', `${e.target.kind}:${e.target.id}`],
      ['tenant', e.tenant],
      ['outcome', e.outcome],
      ['reason', e.reason],
      ['client', e.client?.address],
    ];
  }
  return [
    ['v', e.v],
    ['type', 'request'],
    ...chain,
    ['requestId', e.requestId],
    ['phase', e.phase],
    ['outcome', e.outcome],
    ['principal', e.principal?.id],
    ['tenant', e.tenant],
    ['client', e.client.address],
    ['method', e.method],
    ['operation', e.operation],
    ['action', e.action],
    ...e.resources.map((r): [string, string] => ['resource', `${r.kind}:${r.id}`]),
    ['decision', e.decision?.effect],
    ...(e.decision?.reasons ?? []).map((r): [string, string] => ['reason', r]),
    ['error', e.error],
    ['status', e.status],
    ['upstreamStatus', e.upstreamStatus],
  ];
}

const BOM = '\ufeff';

/** One RFC 5424 message (unframed) carrying `e`, with `msg` (the event in the sink's format) as MSG. */
export function syslogMessage(e: ChainedEvent, msg: string, h: SyslogHeader): string {
  const pri = h.facility * 8 + severityOf(e);
  const sd = params(e)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${paramValue(String(v))}"`)
    .join('');
  const header = [
    `<${pri}>1`,
    e.time,
    headerField(h.hostname, 255),
    headerField(h.appName, 48),
    headerField(h.procId, 128),
    e.type === 'admin' ? 'admin' : 'request',
  ].join(' ');
  return `${header} [gatehouse@${h.enterpriseId}${sd}] ${BOM}${msg}`;
}

/** Octet-counting framing (RFC 6587 §3.4.1): the message's length in bytes, a space, the message. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}
