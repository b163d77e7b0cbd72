/**
 * The fault suite, smaller, for the gateway's other network dependencies: a real OpenLDAP
 * (slapd), a real OIDC provider's JWKS endpoint and a webhook audit receiver. Each sits behind
 * a fault-injecting TCP proxy (test/harness/fault-proxy.ts) that resets every connection, open
 * ones included, accepts and never answers, or refuses connections, while the gateway (its own
 * process) is under load; slapd is also stopped outright. Every round asserts the process is
 * still up, what the client sees during the fault, and that the gateway serves again after it.
 * A token signed with a key the gateway has not fetched yet (the IdP rotated) while the JWKS
 * endpoint fails is an outage (503), not a bad token (401).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultProxy, type FaultMode, type FaultProxy } from '../harness/fault-proxy.ts';
import { basic, ADMIN_AUTH } from '../harness/gatehouse.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { ADMINS_GROUP, GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, USERS, startSlapd, type Slapd } from '../harness/slapd.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { assertUnavailable, call, recovered, spawnWithConfig, startLoad, unavailable, type FaultGateway, type Load } from './load.ts';

const FAULTS: readonly FaultMode[] = ['reset', 'hang', 'down'];
const READ = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const HIGH = { rate: 100_000, burst: 100_000 };
const unlimited = { reads: HIGH, writes: HIGH, artifacts: HIGH, searches: HIGH };
const base = { rateLimits: { principal: unlimited, tenant: unlimited, address: unlimited }, log: { level: 'info', requests: false } };

let stub: StubUpstream;
before(async () => (stub = await startStub()));
after(() => stub?.close());

/** The target of `url` (`ldaps://127.0.0.1:636`, `http://127.0.0.1:80`) for the proxy. */
const targetOf = (url: string) => ({ host: '127.0.0.1', port: Number(new URL(url).port) });

describe('LDAP: the directory reset, unanswering, refusing and stopped while binds are in flight', { timeout: 90_000 }, () => {
  let ldap: Slapd;
  let proxy: FaultProxy;
  let gh: FaultGateway;
  let load: Load;
  const alice = basic('alice', USERS.alice.password);
  const request = () => call(`${gh.url}${READ}`, { headers: { authorization: alice } });
  before(async () => {
    ldap = await startSlapd();
    proxy = await startFaultProxy(targetOf(ldap.ldapsUrl));
    gh = await spawnWithConfig(stub.url, {
      ...base,
      auth: {
        providers: [
          { type: 'local', scrypt: { cost: 1024 } },
          {
            type: 'ldap',
            url: `ldaps://127.0.0.1:${proxy.port}`,
            tlsCaFile: ldap.caFile,
            search: { bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, base: PEOPLE },
            groups: { base: GROUPS },
            groupMappings: [{ group: ADMINS_GROUP, admin: true }],
            // Every request binds: the fault meets a live directory operation, not a cache.
            cacheTtlMs: 0,
            connectTimeoutMs: 500,
            timeoutMs: 500,
          },
        ],
      },
    });
    assert.equal((await request()).status, 200);
    load = startLoad(4, request);
  });
  after(async () => {
    await load?.stop();
    await gh?.close();
    await proxy?.close();
    await ldap?.close();
  });

  for (const fault of [...FAULTS, 'slapd stopped'] as const) {
    test(`${fault}: 503 GATEHOUSE_AUTHN_UNAVAILABLE while it lasts, the process stays up, served again after`, async (t) => {
      if (fault === 'slapd stopped') await ldap.stop();
      else await proxy.set(fault);
      try {
        const down = await unavailable(gh, request);
        assertUnavailable(down, 'GATEHOUSE_AUTHN_UNAVAILABLE');
        t.diagnostic(`503 in ${down.ms!.toFixed(0)} ms during the fault`);
      } finally {
        if (fault === 'slapd stopped') await ldap.start();
        else await proxy.set('pass');
      }
      t.diagnostic(`serving again ${(await recovered(gh, request)).toFixed(0)} ms after the directory was back`);
      gh.assertAlive();
    });
  }

  test('the load throughout: only 200s and MLflow-shaped 503s', async (t) => {
    await load.stop();
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries(load.counts))}`);
    gh.assertAlive();
    assert.deepEqual(load.unexpected, []);
  });
});

describe("OIDC: the IdP's JWKS endpoint reset, unanswering and refusing while keys are fetched", { timeout: 90_000 }, () => {
  let idp: TestIdp;
  let proxy: FaultProxy;
  let gh: FaultGateway;
  let load: Load;
  const token = (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return idp.sign({ iss: idp.issuer, aud: RESOURCE, sub: 'fault-job', iat: now, exp: now + 3600, groups: ['fault-admins'], ...claims });
  };
  const bearer = (t: string) => () => call(`${gh.url}${READ}`, { headers: { authorization: `Bearer ${t}` } });
  before(async () => {
    idp = await startIdp();
    proxy = await startFaultProxy(targetOf(idp.issuer));
    gh = await spawnWithConfig(stub.url, {
      ...base,
      auth: {
        providers: [
          { type: 'local', scrypt: { cost: 1024 } },
          {
            type: 'oidc',
            issuer: idp.issuer,
            discovery: false,
            jwksUri: `${proxy.url}/jwks`,
            audience: RESOURCE,
            admin: { groups: ['fault-admins'] },
            // Fetch the keys as often as possible, so the faults meet fetches in flight.
            jwksRefetchMinIntervalSeconds: 0,
            jwksMaxAgeSeconds: 1,
            httpTimeoutMs: 300,
            cacheSize: 0,
          },
        ],
      },
    });
    const steady = bearer(await token());
    assert.equal((await steady()).status, 200);
    load = startLoad(4, steady);
  });
  after(async () => {
    await load?.stop();
    await gh?.close();
    await proxy?.close();
    await idp?.close();
  });

  for (const fault of FAULTS) {
    test(`${fault}: a token of a key not fetched yet gets 503 (the IdP could not be asked), known keys keep working, the new key works after`, async (t) => {
      await proxy.set(fault);
      await idp.rotateKeys();
      const fresh = bearer(await token());
      try {
        const during = await fresh();
        // Not 401: the token may well be valid, and a 401 makes a client drop it; 503 tells it to retry.
        assertUnavailable(during, 'GATEHOUSE_AUTHN_UNAVAILABLE');
        t.diagnostic(`the new key's token: ${during.status} in ${during.ms!.toFixed(0)} ms during the fault`);
        gh.assertAlive();
      } finally {
        await proxy.set('pass');
      }
      t.diagnostic(`accepted ${(await recovered(gh, fresh)).toFixed(0)} ms after the endpoint was back`);
      gh.assertAlive();
    });
  }

  test('the load with a known key throughout: every answer a 200', async (t) => {
    await load.stop();
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries(load.counts))}`);
    gh.assertAlive();
    assert.deepEqual([...load.counts.keys()], [200]);
  });
});

describe('webhook audit sink: the receiver reset, unanswering and refusing while batches are posted', { timeout: 90_000 }, () => {
  let receiver: Server;
  let received = 0;
  let proxy: FaultProxy;
  let gh: FaultGateway;
  let load: Load;
  const request = () => call(`${gh.url}${READ}`, { headers: { authorization: ADMIN_AUTH } });
  const metrics = async () => {
    const listening = gh.output.find((l) => l.includes('gatehouse listening'))!;
    const { internalUrl } = JSON.parse(listening) as { internalUrl: string };
    return (await call(`${internalUrl}/metrics`)).body;
  };
  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received += (JSON.parse(body) as { events: unknown[] }).events.length;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    proxy = await startFaultProxy({ host: '127.0.0.1', port: (receiver.address() as AddressInfo).port });
    gh = await spawnWithConfig(stub.url, {
      ...base,
      auth: { providers: [{ type: 'local', scrypt: { cost: 1024 } }] },
      audit: { sinks: [{ type: 'webhook', url: `${proxy.url}/ingest`, batchSize: 20, flushIntervalMs: 20, maxRetries: 1, retryBaseMs: 20, timeoutMs: 300 }] },
    });
    load = startLoad(4, request);
    await recovered(gh, async () => ({ status: received > 0 ? 200 : 0, body: 'no event received yet' }));
  });
  after(async () => {
    await load?.stop();
    await gh?.close();
    await proxy?.close();
    await new Promise<void>((r) => receiver?.close(() => r()));
  });

  for (const fault of FAULTS) {
    test(`${fault}: requests keep being served (the webhook is best effort), events lost are counted, delivery resumes after`, async () => {
      const lostBefore = lost(await metrics());
      await proxy.set(fault);
      try {
        // Bounded by count: wait until the sink has lost a batch to the fault.
        await recovered(gh, async () => ({ status: lost(await metrics()) > lostBefore ? 200 : 0, body: 'no loss counted yet' }));
        assert.equal((await request()).status, 200);
      } finally {
        await proxy.set('pass');
      }
      const receivedBefore = received;
      await recovered(gh, async () => ({ status: received > receivedBefore ? 200 : 0, body: 'no event received since the fault' }));
      gh.assertAlive();
    });
  }

  test('the load throughout: every answer a 200', async (t) => {
    await load.stop();
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries(load.counts))}; events received ${received}`);
    gh.assertAlive();
    assert.deepEqual([...load.counts.keys()], [200]);
  });
});

/** `gatehouse_audit_events_lost_total{sink="webhook",reason="error"}` from a metrics page. */
function lost(page: string): number {
  const m = /^gatehouse_audit_events_lost_total\{sink="webhook",reason="error"\} (\d+)/m.exec(page);
  return m ? Number(m[1]) : 0;
}
