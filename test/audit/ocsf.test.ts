/**
 * The OCSF form of audit events (src/audit/ocsf.ts) against the facts of the OCSF 1.8.0 schema for
 * API Activity (class 6003) with the Security Control profile: every required attribute present,
 * every attribute one the schema defines for that class or object, with its type, its enum values
 * and its objects' "at least one of" constraints. The facts are extracted from the schema
 * repository (test/fixtures/ocsf/api-activity-1.8.0.json names the commit and files). The events
 * are the real ones of a gateway run — every outcome it can reach with a stub MLflow, admin events
 * of the API, the login page and the first start — plus the outcomes a run reaches only by fault.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainedEvent } from '../../src/audit/event.ts';
import { toOcsf } from '../../src/audit/ocsf.ts';
import { ADMIN_AUTH, basic, callJson, formSignIn, startInProcess } from '../harness/gatehouse.ts';
import { ROOT } from '../harness/paths.ts';
import { startStub } from '../harness/stub-upstream.ts';

interface AttrFact {
  readonly type: string;
  readonly requirement: 'required' | 'recommended' | 'optional';
  readonly is_array?: boolean;
  readonly enum?: readonly number[];
}
interface Facts {
  readonly source: { readonly version: string; readonly commit: string };
  readonly class: { readonly uid: number; readonly category_uid: number; readonly profiles: readonly string[]; readonly attributes: Record<string, AttrFact> };
  readonly objects: Record<string, { readonly attributes: Record<string, AttrFact>; readonly constraints?: { readonly at_least_one?: readonly string[] } }>;
  readonly types: Record<string, string>;
}
const facts = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/ocsf/api-activity-1.8.0.json'), 'utf8')) as Facts;

/** Every way `value` breaks the facts, as `path: problem`. */
function problems(value: unknown): string[] {
  const out: string[] = [];
  const checkScalar = (path: string, v: unknown, fact: AttrFact) => {
    const base = facts.types[fact.type] ?? fact.type;
    const ok =
      base === 'string_t' ? typeof v === 'string'
      : base === 'integer_t' || base === 'long_t' ? Number.isInteger(v)
      : base === 'float_t' ? typeof v === 'number'
      : base === 'boolean_t' ? typeof v === 'boolean'
      : base === 'json_t' ? v !== undefined
      : base === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
      : undefined;
    if (ok === undefined) out.push(`${path}: type ${fact.type} has no fact (add its object to the fixture)`);
    else if (!ok) out.push(`${path}: ${JSON.stringify(v)} is not ${fact.type}`);
    else if (fact.enum && !fact.enum.includes(v as number)) out.push(`${path}: ${String(v)} is not one of ${fact.enum.join(', ')}`);
  };
  const checkValue = (path: string, v: unknown, fact: AttrFact) => {
    if (fact.is_array) {
      if (!Array.isArray(v)) return void out.push(`${path}: not an array`);
      v.forEach((item, i) => checkOne(`${path}[${i}]`, item, fact));
    } else checkOne(path, v, fact);
  };
  const checkOne = (path: string, v: unknown, fact: AttrFact) => {
    const object = facts.objects[fact.type];
    if (object) checkObject(path, v, object.attributes, object.constraints?.at_least_one);
    else checkScalar(path, v, fact);
  };
  const checkObject = (path: string, v: unknown, attrs: Record<string, AttrFact>, atLeastOne?: readonly string[]) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return void out.push(`${path}: not an object`);
    const rec = v as Record<string, unknown>;
    for (const [k, f] of Object.entries(attrs)) if (f.requirement === 'required' && rec[k] === undefined) out.push(`${path}.${k}: required, missing`);
    if (atLeastOne && !atLeastOne.some((k) => rec[k] !== undefined)) out.push(`${path}: needs one of ${atLeastOne.join(', ')}`);
    for (const [k, item] of Object.entries(rec)) {
      const f = attrs[k];
      if (!f) out.push(`${path}.${k}: not an attribute of this object in OCSF ${facts.source.version}`);
      else if (item === null) out.push(`${path}.${k}: null (leave it out instead)`);
      else checkValue(`${path}.${k}`, item, f);
    }
  };
  checkObject('event', value, facts.class.attributes);
  const e = value as { class_uid?: number; category_uid?: number; activity_id?: number; type_uid?: number; metadata?: { profiles?: string[] } };
  if (e.class_uid !== facts.class.uid) out.push(`event.class_uid: ${e.class_uid} is not ${facts.class.uid}`);
  if (e.category_uid !== facts.class.category_uid) out.push(`event.category_uid: ${e.category_uid} is not ${facts.class.category_uid}`);
  if (e.type_uid !== facts.class.uid * 100 + (e.activity_id ?? -1)) out.push(`event.type_uid: ${e.type_uid} is not class_uid × 100 + activity_id`);
  for (const p of facts.class.profiles) if (!e.metadata?.profiles?.includes(p)) out.push(`event.metadata.profiles: ${p} (its attributes are used) not declared`);
  return out;
}

describe('OCSF API Activity events of a real run', { timeout: 60_000 }, () => {
  const events: ChainedEvent[] = [];
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-ocsf-'));
    const stub = await startStub();
    const gh = await startInProcess(stub.url, { 'audit.mode': 'required', 'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }] });
    try {
      const auth = { authorization: ADMIN_AUTH };
      await callJson(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET', auth);
      await callJson(`${gh.url}/api/2.0/mlflow/runs/create`, 'POST', auth, { experiment_id: '1' });
      await callJson(`${gh.url}/api/2.0/mlflow/runs/delete`, 'POST', auth, { run_id: 'r1' });
      await callJson(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET', { authorization: basic('admin', 'wrong-password') });
      await callJson(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET');
      await callJson(`${gh.url}/api/2.0/mlflow/no-such-route`, 'GET', auth);
      await callJson(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1&experiment_id=2`, 'GET', auth);
      await callJson(`${gh.url}/_gatehouse/api/v1/users`, 'POST', auth, { username: 'ulla' });
      await callJson(`${gh.url}/_gatehouse/api/v1/users/ulla`, 'DELETE', auth);
      await formSignIn(gh.url, 'admin', 'wrong-password');
    } finally {
      await gh.close();
      await stub.close();
    }
    events.push(...readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChainedEvent));
    rmSync(dir, { recursive: true, force: true });
    // Outcomes a run reaches only by a fault: MLflow failing, the client leaving; an admin change from the CLI.
    const complete = events.find((e) => e.type !== 'admin' && e.phase === 'complete' && e.operation === 'runs.create')!;
    events.push({ ...complete, outcome: 'failed', error: 'GATEHOUSE_UPSTREAM_UNAVAILABLE', status: 503, upstreamStatus: null, detail: 'x' } as ChainedEvent);
    events.push({ ...complete, outcome: 'aborted', error: 'GATEHOUSE_CLIENT_ABORTED', status: 499 } as ChainedEvent);
    const admin = events.find((e) => e.type === 'admin')!;
    events.push({ ...admin, door: 'cli', actor: { id: 'cli:root' }, client: null, requestId: null } as ChainedEvent);
  });

  test('the run covers what it should', () => {
    const outcomes = new Set(events.map((e) => `${e.type ?? 'request'}:${e.outcome}`));
    for (const o of ['request:allowed', 'request:pending', 'request:denied', 'request:malformed', 'request:failed', 'request:aborted', 'admin:allowed', 'admin:denied']) {
      assert.ok(outcomes.has(o), `${o} among ${[...outcomes].join(' ')}`);
    }
    assert.ok(events.some((e) => e.type !== 'admin' && e.principal === null), 'an unauthenticated request');
    assert.ok(events.some((e) => e.type !== 'admin' && e.operation === null), 'a request no route matched');
  });

  test('every event, mapped, satisfies the schema facts of class 6003', () => {
    for (const e of events) assert.deepEqual(problems(toOcsf(e)), [], `${e.type ?? 'request'} ${e.outcome} seq ${e.seq}: ${JSON.stringify(toOcsf(e))}`);
  });

  test('the mapping carries the facts: actor, operation, endpoint, status, decision, time, chain', () => {
    const created = events.find((e) => e.type !== 'admin' && e.phase === 'complete' && e.operation === 'runs.create')! as ChainedEvent & { requestId: string };
    const o = toOcsf(created) as ReturnType<typeof toOcsf> & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(
      [o.activity_id, o.api.operation, o.actor.user.uid, o.src_endpoint.ip, o.http_response.code, o.action_id, o.disposition_id, o.status_id, o.time, o.metadata.uid, o.metadata.sequence, o.metadata.correlation_uid],
      [1, 'runs.create', 'local:admin', '127.0.0.1', 200, 1, 1, 1, Date.parse(created.time), created.hash, created.seq, created.requestId],
    );
    const deleted = toOcsf(events.find((e) => e.type !== 'admin' && e.operation === 'runs.delete' && e.phase === 'complete')!);
    assert.equal(deleted.activity_id, 4);
    const unauthenticated = toOcsf(events.find((e) => e.type !== 'admin' && e.error === 'GATEHOUSE_AUTHN_REQUIRED')!);
    assert.deepEqual([unauthenticated.disposition_id, unauthenticated.action_id, unauthenticated.severity_id], [26, 2, 3]);
    const refusedSignIn = toOcsf(events.find((e) => e.type === 'admin' && e.outcome === 'denied')!);
    assert.deepEqual([refusedSignIn.api.operation, refusedSignIn.status_id, refusedSignIn.disposition_id], ['session.signInFailed', 2, 26]);
  });

  test('the check can fail: a missing actor, a wrong type, an unknown attribute, an enum value out of range', () => {
    const o = toOcsf(events[1]!) as unknown as Record<string, unknown>;
    const { actor: _gone, ...withoutActor } = o;
    assert.deepEqual(problems(withoutActor), ['event.actor: required, missing']);
    assert.deepEqual(problems({ ...o, time: '2026-01-01' }), ['event.time: "2026-01-01" is not timestamp_t']);
    assert.deepEqual(problems({ ...o, api: { ...(o.api as object), verb: 'x' } }), [`event.api.verb: not an attribute of this object in OCSF ${facts.source.version}`]);
    assert.deepEqual(problems({ ...o, disposition_id: 28 }), [`event.disposition_id: 28 is not one of ${facts.class.attributes.disposition_id!.enum!.join(', ')}`]);
    assert.deepEqual(problems({ ...o, src_endpoint: { port: 1 } }), ['event.src_endpoint: needs one of ip, uid, name, hostname, svc_name, instance_uid, interface_uid, interface_name, domain']);
  });
});

