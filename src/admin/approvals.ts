/**
 * Approval requests (issue 23): list those the caller may see, approve or deny one. Any
 * authenticated principal may call these; who may decide what is the approvals service's rule
 * (src/services/approvals.ts), not this door's.
 */
import { z } from 'zod';
import { GatehouseError } from '../errors.ts';
import type { ApprovalsService } from '../services/approvals.ts';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const STATUSES = ['pending', 'executing', 'executed', 'denied', 'expired', 'refused'] as const;

const approvalView = z.object({
  id: z.string(),
  tenant: z.string().nullable(),
  rule: z.string(),
  required: z.number().int(),
  selfApproval: z.boolean(),
  requester: z.string(),
  op: z.string(),
  method: z.string(),
  path: z.string(),
  bodyHash: z.string(),
  summary: z.object({ kind: z.string(), model: z.string(), alias: z.string(), version: z.string() }).nullable(),
  status: z.enum(STATUSES),
  createdAt: z.string(),
  expiresAt: z.string(),
  votes: z.array(z.object({ approver: z.string(), decision: z.enum(['approve', 'deny']), comment: z.string().nullable(), at: z.string() })),
  result: z.object({ status: z.number().int(), body: z.string() }).nullable(),
});

export function approvalRoutes(deps: AdminDeps): RouteSpec[] {
  const service = (): ApprovalsService => {
    if (!deps.services.approvals) throw new GatehouseError('GATEHOUSE_INTERNAL_ERROR', 'no approvals service in this process');
    return deps.services.approvals;
  };
  return [
    route({
      method: 'GET', path: '/approvals', tag: 'approvals', access: 'self', summary: 'List approval requests: your own and those you may decide (platform administrators: all), newest first',
      query: z.strictObject({ status: z.enum(STATUSES).optional(), tenant: z.string().optional() }),
      response: z.object({ approvals: z.array(approvalView) }),
      handler: async ({ actor, query }) => ({ approvals: await service().list(actor, query) }),
    }),
    route({
      method: 'GET', path: '/approvals/:id', tag: 'approvals', access: 'self', summary: 'One approval request',
      response: approvalView,
      handler: async ({ actor, params }) => service().get(actor, params.id!),
    }),
    route({
      method: 'GET', path: '/approvals/:id/current', tag: 'approvals', access: 'self',
      summary: "What MLflow has now where the held call would land: for an alias move, the alias's version (`unset`: no such alias; `unknown`: MLflow's answer said neither)",
      response: z.discriminatedUnion('state', [
        z.object({ state: z.literal('set'), version: z.string() }),
        z.object({ state: z.literal('unset') }),
        z.object({ state: z.literal('unknown'), reason: z.string() }),
      ]),
      handler: async ({ actor, params }) => service().current(actor, params.id!),
    }),
    route({
      method: 'POST', path: '/approvals/:id/approve', tag: 'approvals', access: 'self',
      summary: 'Approve a request; once it has its approvals the gateway performs the stored MLflow call as the requester and records the result',
      body: z.strictObject({ comment: z.string().max(2000).optional() }).prefault({}),
      response: approvalView,
      handler: async ({ actor, params, body }) => service().approve(actor, params.id!, body.comment),
    }),
    route({
      method: 'POST', path: '/approvals/:id/deny', tag: 'approvals', access: 'self', summary: 'Deny a request (a comment saying why is required); it never executes',
      body: z.strictObject({ comment: z.string().max(2000) }),
      response: approvalView,
      handler: async ({ actor, params, body }) => service().deny(actor, params.id!, body.comment),
    }),
  ];
}
