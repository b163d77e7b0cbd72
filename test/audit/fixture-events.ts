/** The audit suites' fixture event: an allowed `runs.create` by local:alice, numbered `i`, at `time` (epoch ms). */
import type { RequestAuditEvent } from '../../src/audit/event.ts';

export function requestEvent(i: number, time: number): RequestAuditEvent {
  return {
    v: 1,
    phase: 'complete',
    time: new Date(time).toISOString(),
    requestId: `req-${i}`,
    principal: { id: 'local:alice', kind: 'user', method: 'basic', provider: 'local' },
    tenant: null,
    client: { address: '127.0.0.1', userAgent: 'test' },
    method: 'POST',
    operation: 'runs.create',
    action: 'edit',
    resources: [{ kind: 'experiment', id: String(i), key: { experiment_id: String(i) }, from: 'params:experiment_id' }],
    decision: { effect: 'allow', reasons: ['platform-admin'] },
    outcome: 'allowed',
    error: null,
    upstreamStatus: 200,
    status: 200,
    latencyMs: 1.5,
  };
}
