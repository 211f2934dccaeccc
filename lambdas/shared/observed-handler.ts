/**
 * The deployed form of a handler: the Lambda context in every log line, and the metrics it added
 * flushed as EMF at the end of each invocation (without logMetrics they would silently be lost).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Observability } from './observability';

export function observedHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  { logger, metrics }: Observability,
) {
  return middy(handler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
