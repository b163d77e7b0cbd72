/**
 * Typed pipeline phases (issue 19 step 5; STYLE.md lesson 16): a stage says the phase it needs
 * (canonical, matched, authorized, rewritten) and the runner holds it to that. A stage table out
 * of order is refused when the runner is built; a stage that claims a phase it did not deliver
 * ends the request with an internal error, and the stage that needed it never runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/lib/logger.ts';
import { createRunner, type RequestEvent } from '../../src/pipeline/runner.ts';
import type { Stage } from '../../src/pipeline/context.ts';
import { canonicalize } from '../../src/pipeline/stages/canonicalize.ts';

const quiet = createLogger('error', new PassThrough());
const needsRoute: Stage<'matched'> = { name: 'needs-route', needs: 'matched', run: () => assert.fail('ran without a route') };

test('a stage table that runs a stage before its phase is refused when the runner is built', () => {
  assert.throws(() => createRunner([canonicalize, needsRoute], quiet, { logRequests: false }), (e: unknown) => e instanceof TypeError && /needs-route needs phase matched/.test(e.message));
});

test('a stage that claims a phase it did not deliver ends the request, and the next stage never runs', async () => {
  const liar: Stage<'canonical'> = { name: 'liar', needs: 'canonical', gives: 'matched', run() {} };
  const events: RequestEvent[] = [];
  const runner = createRunner([canonicalize, liar, needsRoute], quiet, { logRequests: false, observers: [{ onDone: (e) => events.push(e) }] });
  const server: Server = createServer((req, res) => void runner.handle(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/2.0/mlflow/runs/get`);
    assert.equal(r.status, 500);
    assert.equal(((await r.json()) as { error_code: string }).error_code, 'INTERNAL_ERROR');
    assert.equal(events[0]?.ctx.errorCode, 'GATEHOUSE_INTERNAL_ERROR');
    assert.match(events[0]?.ctx.errorDetail ?? '', /needs-route before phase matched/);
  } finally {
    await new Promise((ok) => server.close(ok));
  }
});
