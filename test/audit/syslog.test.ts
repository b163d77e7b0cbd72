/**
 * The syslog audit sink against a real rsyslog (test/harness/rsyslog.ts): RFC 5424 messages with
 * octet-counting framing over TCP and over TLS (client certificate checked by rsyslog), as rsyslog
 * itself parses them; every audit event of the run arrives, in chain order, the chain verifying
 * from what rsyslog wrote; and with `audit.mode: required`, rsyslog stopped means 503 for
 * mutations, rsyslog back means they resume, and no event is lost (counted end to end); killed
 * (SIGKILL) while events stream, what was written to the dead connection is sent again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../src/audit/chain.ts';
import type { ChainedEvent } from '../../src/audit/event.ts';
import { headerField, octetFrame, syslogMessage } from '../../src/audit/syslog.ts';
import { ADMIN_AUTH, basic, callJson, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { createPki, type Pki } from '../harness/pki.ts';
import { startRsyslog, type Received, type Rsyslog } from '../harness/rsyslog.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { distinct } from './delivered.ts';

const BOM = '\ufeff';
/** The event a message carries (its MSG, BOM removed). */
const eventOf = (r: Received) => JSON.parse(r.msg.startsWith(BOM) ? r.msg.slice(1) : r.msg) as ChainedEvent;
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChainedEvent);

/** Waits, a bounded number of rounds, until `listener` holds `n` messages. */
async function receivedAtLeast(rs: Rsyslog, listener: 'tcp' | 'tls', n: number): Promise<Received[]> {
  for (let i = 0; i < 300; i++) {
    const got = rs.received(listener);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return rs.received(listener);
}

describe('RFC 5424 message and framing', () => {
  const event = {
    v: 1,
    phase: 'complete',
    time: '2026-11-22T12:00:00.123Z',
    requestId: 'req-1',
    principal: { id: 'local:al]i"ce\\', kind: 'user', method: 'basic', provider: 'local' },
    tenant: 'team-ä',
    client: { address: '127.0.0.1', userAgent: 'ua' },
    method: 'POST',
    operation: 'runs.create',
    action: 'edit',
    resources: [{ kind: 'experiment', id: '1', key: {}, from: 'body:experiment_id' }],
    decision: { effect: 'deny', reasons: ['no-binding'] },
    outcome: 'denied',
    error: 'GATEHOUSE_AUTHZ_DENIED',
    upstreamStatus: null,
    status: 403,
    latencyMs: 1,
    seq: 7,
    prev: 'a'.repeat(64),
    hash: 'b'.repeat(64),
  } as unknown as ChainedEvent;

  test('header, structured data escaped per §6.3.3, MSG with a BOM; the frame counts bytes, not characters', () => {
    const m = syslogMessage(event, '{"x":"ä"}', { facility: 13, hostname: 'gw 1', appName: 'gatehouse', procId: '42', enterpriseId: 32473 });
    // facility 13 × 8 + severity 4 (warning: denied)
    assert.ok(m.startsWith('<108>1 2026-11-22T12:00:00.123Z gw_1 gatehouse 42 request [gatehouse@32473 v="1" type="request" seq="7" '), m);
    assert.match(m, / principal="local:al\\]i\\"ce\\\\" /);
    assert.match(m, / tenant="team-ä" /);
    assert.match(m, / resource="experiment:1" decision="deny" reason="no-binding" error="GATEHOUSE_AUTHZ_DENIED" status="403"\] /);
    assert.ok(!m.includes('upstreamStatus'), 'null values are left out');
    assert.ok(m.endsWith(`] ${BOM}{"x":"ä"}`));
    const frame = octetFrame(m).toString('utf8');
    const [len, ...rest] = frame.split(' ');
    assert.equal(Number(len), Buffer.byteLength(rest.join(' ')));
    assert.notEqual(Number(len), rest.join(' ').length, 'the fixture has multi-byte characters');
    assert.equal(headerField('', 48), '-');
    assert.equal(headerField('x'.repeat(60), 48).length, 48);
  });
});

/** The handles of one describe's rig: a real rsyslog, a stub MLflow, a gateway, a scratch directory. */
interface Rig {
  pki: Pki;
  rs: Rsyslog;
  stub: StubUpstream;
  gh: InProcess;
  dir: string;
}

/** Starts the rig before the describe's tests (the gateway configured by `overrides`), stops it after. */
function rig(overrides: (rs: Rsyslog, pki: Pki, dir: string) => Record<string, unknown>): Rig {
  const h = {} as Rig;
  before(async () => {
    h.pki = createPki();
    h.rs = await startRsyslog(h.pki);
    h.stub = await startStub();
    h.dir = mkdtempSync(join(tmpdir(), 'gh-syslog-'));
    h.gh = await startInProcess(h.stub.url, overrides(h.rs, h.pki, h.dir));
  });
  after(async () => {
    await h.gh?.close().catch(() => undefined); // a test may have closed it already to flush its sinks
    await h.stub?.close();
    await h.rs?.close();
    h.pki?.close();
    if (h.dir) rmSync(h.dir, { recursive: true, force: true });
  });
  return h;
}

describe('to a real rsyslog over TCP and TLS', { timeout: 120_000 }, () => {
  const h = rig((rs, pki, dir) => ({
    'audit.sinks': [
      { type: 'file', path: join(dir, 'audit.jsonl'), fsync: false },
      { type: 'syslog', url: rs.tcpUrl, hostname: 'gw-1' },
      { type: 'syslog', id: 'syslog-tls', url: rs.tlsUrl, ca: pki.ca.certFile, cert: pki.cn.certFile, key: pki.cn.keyFile, format: 'ocsf' },
    ],
  }));

  test('every event of the run arrives on both, parsed by rsyslog as RFC 5424, in chain order', async () => {
    const auth = { authorization: ADMIN_AUTH };
    const calls = [
      callJson(`${h.gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET', auth),
      callJson(`${h.gh.url}/api/2.0/mlflow/runs/create`, 'POST', auth, { experiment_id: '1' }),
      callJson(`${h.gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET', { authorization: basic('admin', 'wrong-password') }),
      callJson(`${h.gh.url}/api/2.0/mlflow/no-such-route`, 'GET', auth),
      callJson(`${h.gh.url}/_gatehouse/api/v1/users`, 'POST', auth, { username: 'ulla' }),
    ];
    for (const c of calls) await c;
    for (let i = 0; i < 40; i++) await callJson(`${h.gh.url}/api/2.0/mlflow/runs/get?run_id=r${i}`, 'GET', auth);
    // The file sink holds every event the gateway made, each sink's chain in the same order.
    await h.gh.close();
    const made = lines(join(h.dir, 'audit.jsonl'));
    assert.ok(made.length >= 45, `${made.length} events`);
    assert.ok(made.some((e) => e.type === 'admin'), 'an admin event is among them');

    const tcp = await receivedAtLeast(h.rs, 'tcp', made.length);
    const tls = await receivedAtLeast(h.rs, 'tls', made.length);
    for (const [name, got] of [['tcp', tcp], ['tls', tls]] as const) {
      assert.equal(got.length, made.length, `${name}: one message per event, no more, no less`);
      const first = got[0]!;
      assert.equal(first.protocol, '1');
      assert.equal(first.appname, 'gatehouse');
      assert.equal(first.procid, String(process.pid));
      assert.equal(Number(first.pri) >> 3, 13, 'facility log audit');
      assert.equal(new Date(first.timereported).getTime(), Date.parse(made[0]!.time), 'TIMESTAMP is the event\'s time');
      assert.deepEqual(got.map((r) => r.msgid), made.map((e) => (e.type === 'admin' ? 'admin' : 'request')));
      assert.deepEqual(
        got.map((r) => /\bseq="(\d+)"/.exec(r.sd)?.[1]),
        made.map((_, i) => String(i + 1)),
        `${name}: the structured data carries seq 1..n in order`,
      );
    }
    assert.equal(tcp[0]!.hostname, 'gw-1');
    // Native MSG: the event exactly as the chain hashed it — the chain verifies from what rsyslog wrote.
    const native = tcp.map(eventOf);
    const verified = verifyChain(native.map((event, i) => ({ where: `tcp:${i + 1}`, event })));
    assert.deepEqual(verified.problems, []);
    assert.deepEqual(
      native.map((e) => [e.requestId, e.type ?? 'request', e.outcome]),
      made.map((e) => [e.requestId, e.type ?? 'request', e.outcome]),
    );
    // OCSF MSG over TLS: one API Activity event per native one, carrying its hash.
    const ocsf = tls.map((r) => JSON.parse(r.msg.replace(BOM, '')) as { class_uid: number; metadata: { uid: string; sequence: number } });
    assert.deepEqual(ocsf.map((o) => o.class_uid), made.map(() => 6003));
    assert.deepEqual(ocsf.map((o) => o.metadata.sequence), native.map((e) => e.seq));
  });
});

describe('audit.mode required with rsyslog stopped and started again', { timeout: 180_000 }, () => {
  const h = rig((rs) => ({
    'audit.mode': 'required',
    'audit.sinks': [{ type: 'syslog', url: rs.tcpUrl, retryBaseMs: 50, retryMaxMs: 200 }],
    'rateLimits.enabled': false,
  }));

  type Sent = { id: string; status: number; code: string | undefined };
  const sent: Sent[] = [];
  const createRun = async (i: number): Promise<Sent> => {
    const r = await callJson(`${h.gh.url}/api/2.0/mlflow/runs/create`, 'POST', { authorization: ADMIN_AUTH }, { experiment_id: '1', run_name: `r${i}` });
    const s = { id: r.headers.get('x-request-id')!, status: r.status, code: r.json.gatehouse_code as string | undefined };
    sent.push(s);
    return s;
  };
  const ready = async () => {
    const r = await callJson(`${h.gh.url}/readyz`, 'GET');
    return { status: r.status, syslog: (r.json.checks as Record<string, { ok: boolean }>)['audit:syslog'] };
  };
  const forwarded = () => h.stub.requests.filter((r) => r.url.endsWith('/runs/create')).length;

  test('503 while rsyslog is down, served again when it is back, every event in rsyslog', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await createRun(i)).status, 200);
    assert.equal((await ready()).status, 200);

    await h.rs.stop();
    // The sink notices the closed connection; readiness says so (bounded rounds, no clock).
    let r = await ready();
    for (let i = 0; i < 200 && r.status === 200; i++) r = await ready();
    assert.equal(r.status, 503);
    assert.equal(r.syslog?.ok, false);
    const before = forwarded();
    for (let i = 0; i < 10; i++) {
      const s = await createRun(100 + i);
      assert.equal(s.status, 503);
      assert.equal(s.code, 'GATEHOUSE_AUDIT_UNAVAILABLE');
    }
    assert.equal(forwarded(), before, 'nothing was forwarded while the receiver was down');
    const get = await callJson(`${h.gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET', { authorization: ADMIN_AUTH });
    assert.equal(get.status, 200, 'reads are not held back');

    await h.rs.start();
    let back = await createRun(200);
    for (let i = 1; i < 200 && back.status !== 200; i++) back = await createRun(200 + i);
    assert.equal(back.status, 200, 'mutations resume once rsyslog is back');
    for (let i = 0; i < 20; i++) assert.equal((await createRun(500 + i)).status, 200);
    assert.equal((await ready()).status, 200);
    await h.gh.close();

    // Count end to end: every request sent has its complete event with the status its client got;
    // every acknowledged one its pending event; seqs 1..n with none missing; the chain verifies.
    const all = h.rs.received('tcp').map(eventOf);
    const chain = distinct(all);
    const requests = chain.filter((e) => e.type !== 'admin') as Array<ChainedEvent & { phase: string; status: number | null; requestId: string }>;
    for (const s of sent) {
      const complete = requests.filter((e) => e.requestId === s.id && e.phase === 'complete');
      assert.deepEqual(complete.map((e) => e.status), [s.status], `request ${s.id} (${s.status}) has its complete event`);
      if (s.status === 200) assert.equal(requests.filter((e) => e.requestId === s.id && e.phase === 'pending').length, 1, `acknowledged ${s.id} has its pending event`);
    }
    const acknowledged = sent.filter((s) => s.status === 200).length;
    const refused = sent.filter((s) => s.status === 503).length;
    assert.ok(refused >= 10 && acknowledged >= 41, `${acknowledged} acknowledged, ${refused} refused`);
    process.stdout.write(`# ${sent.length} writes sent (${acknowledged} acknowledged, ${refused} refused), ${chain.length} events, ${all.length - chain.length} duplicates\n`);
  });
});

describe('rsyslog killed (SIGKILL) while events stream, and started again', { timeout: 180_000 }, () => {
  const h = rig((rs, _pki, dir) => ({
    'audit.sinks': [
      { type: 'file', path: join(dir, 'audit.jsonl'), fsync: false },
      { type: 'syslog', url: rs.tcpUrl, retryBaseMs: 50, retryMaxMs: 200 },
    ],
    'rateLimits.enabled': false,
  }));

  test('every event reaches rsyslog at least once: what was written to the dead connection is sent again', async () => {
    // Four clients keep sending while rsyslog is killed (no clean close: what it had not read is
    // gone, and the gateway goes on writing to the connection until it learns it broke).
    let sent = 0;
    const client = async () => {
      while (sent < 300) await callJson(`${h.gh.url}/api/2.0/mlflow/runs/get?run_id=k${++sent}`, 'GET', { authorization: ADMIN_AUTH });
    };
    const until = async (n: number) => {
      for (let i = 0; i < 2000 && sent < n; i++) await new Promise((r) => setTimeout(r, 5));
    };
    const clients = Promise.all([client(), client(), client(), client()]);
    await until(100);
    await h.rs.stop('SIGKILL');
    await until(200);
    await h.rs.start();
    await clients;
    await h.gh.close();

    // The file sink holds every event the gateway made; its seqs are the syslog sink's (same order).
    const made = lines(join(h.dir, 'audit.jsonl'));
    assert.ok(made.length >= 300, `${made.length} events`);
    let got: ChainedEvent[] = [];
    let missing: number[] = [];
    for (let i = 0; i < 300; i++) {
      got = h.rs.received('tcp').map(eventOf);
      const seen = new Set(got.map((e) => e.seq));
      missing = made.map((e) => e.seq).filter((s) => !seen.has(s));
      if (missing.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(missing, [], 'no event lost');
    const chain = distinct(got);
    assert.deepEqual(chain.map((e) => e.requestId), made.map((e) => e.requestId));
    process.stdout.write(`# ${made.length} events, ${got.length} messages received (${got.length - chain.length} duplicates)\n`);
  });
});
