/**
 * The PostgreSQL part of a tenant deletion or a user's erasure (design promise 8), invoked by
 * `npm run ops -- tenants delete` / `users erase` on a deployed stage (the operator cannot reach the
 * database in its VPC). Runs as the master user. Three requests, each the adapter's own arguments
 * with an `action`, so the CLI sends what it would pass to the adapter locally:
 *   { "action": "erase", ...ErasureRequest }          accountId, userId?, graceSeconds?, requestedBy, reason?
 *   { "action": "complete", "erasureId", "removed": { "<store>": n } }
 *   { "action": "list", "accountId"?, "limit"? }      the audit records, newest first
 * Locally the ops CLI calls the same adapter functions directly.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type pg from 'pg';
import * as z from 'zod/mini';
import { createPool } from '../adapters/postgres/connection';
import {
  completeErasure,
  type DatabaseErasure,
  type ErasureRecord,
  eraseFromDatabase,
  listErasures,
} from '../adapters/postgres/erasure';
import { boundedText, MAX_ID_LENGTH } from '../core/queue-message';
import type { Environment } from '../shared/env';
import { createObservability, type Observability } from '../shared/observability';
import { once } from '../shared/once';

const erasureRequest = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('erase'),
    accountId: boundedText(MAX_ID_LENGTH),
    userId: z.optional(boundedText(MAX_ID_LENGTH)),
    graceSeconds: z.optional(z.number().check(z.nonnegative(), z.lte(3600))),
    requestedBy: boundedText(200),
    reason: z.optional(boundedText(1000)),
  }),
  z.object({
    action: z.literal('complete'),
    erasureId: z.number().check(z.int(), z.positive()),
    removed: z.record(z.string(), z.number()),
  }),
  z.object({
    action: z.literal('list'),
    accountId: z.optional(boundedText(MAX_ID_LENGTH)),
    limit: z.optional(z.number().check(z.int(), z.positive(), z.lte(1000))),
  }),
]);

/** Time kept back from the function's timeout for the day partition under way. */
const STEP_MARGIN_MS = 5 * 60_000;
/** Time kept back from the function's timeout for cancelling a statement and answering. */
const DEADLINE_MARGIN_MS = 30_000;

export class InvalidErasureRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidErasureRequest';
  }
}

export function createErasureHandler(dependencies: () => { pool: pg.Pool }, { logger }: Observability) {
  return async (
    event: unknown,
    context?: Context,
  ): Promise<DatabaseErasure | ErasureRecord[] | { completed: number }> => {
    const parsed = erasureRequest.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidErasureRequest(`${issue.path.join('.') || 'request'}: ${issue.message}`);
    }
    // Each request is the adapter's arguments plus `action`, which the adapter ignores.
    const request = parsed.data;
    const { pool } = dependencies();
    if (request.action === 'list') return listErasures(pool, request);
    if (request.action === 'complete') {
      await completeErasure(pool, request.erasureId, request.removed);
      logger.info('erasure completed', { erasureId: request.erasureId, removed: request.removed });
      return { completed: request.erasureId };
    }
    const result = await eraseFromDatabase(
      pool,
      request,
      // A large erasure spans invocations (`done: false`, the CLI invokes again): stop with room
      // left for the day being removed when the budget runs out, and cancel a statement that would
      // outlive the function (the next invocation resumes that day).
      context
        ? {
            budgetMs: Math.max(0, context.getRemainingTimeInMillis() - STEP_MARGIN_MS),
            deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
          }
        : {},
    );
    // The audit line: which account, whether one user (never who), by whom, what was removed.
    logger.info(result.done ? 'erasure applied in PostgreSQL' : 'erasure under way in PostgreSQL', {
      erasureId: result.erasureId,
      accountId: request.accountId,
      scope: request.userId === undefined ? 'account' : 'user',
      requestedBy: request.requestedBy,
      removed: result.removed,
    });
    return result;
  };
}

/** The deployed handler: dependencies are built from `env` on the first invocation. */
export function buildErasureHandler(env: Environment = process.env) {
  const observability = createObservability('erasure', env);
  const dependencies = once(() => ({
    pool: createPool({ max: 1, applicationName: 'firehose-erasure' }, env),
  }));
  // No metrics to flush (the CLI reads the answer and the audit record): logs with the context only.
  return middy(createErasureHandler(dependencies, observability)).use(
    injectLambdaContext(observability.logger),
  );
}

export const handler = buildErasureHandler();
