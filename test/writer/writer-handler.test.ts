/**
 * The writer function around the use case: partial batch failures for SQS, and the metrics the
 * alarms and dashboard read (issue 3: events inserted, duplicates skipped, batch latency, freshness).
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { DAY_MS } from '../../lambdas/core/time-buckets';
import { createWriterHandler } from '../../lambdas/handlers/writer';
import { createObservability } from '../../lambdas/shared/observability';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { RecordingLedger } from '../support/ledgers';
import { silentLog } from '../support/logs';
import { deliveriesFor, event } from '../support/queue-messages';
import { WRITER_SETTINGS } from '../support/writers';

describe('Handler: writer', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reports failed messages to SQS and publishes what the batch did', async () => {
    // Prepare: received 5 s ago; one duplicate inside the batch, one event older than retention,
    // and one message that is not JSON.
    const receivedAt = new Date(Date.now() - 5_000).toISOString();
    const first = event('acct-a', 'e1');
    const deliveries = [
      ...deliveriesFor(
        [first, { ...first }, event('acct-a', 'e2'), event('acct-a', 'old', Date.now() - 200 * DAY_MS)],
        {
          receivedAt,
        },
      ),
      { messageId: 'poison', body: 'not json', receiveCount: 1 },
    ];
    const sqsEvent = {
      Records: deliveries.map(({ messageId, body, receiveCount }) => ({
        messageId,
        body,
        attributes: { ApproximateReceiveCount: String(receiveCount) },
      })),
    } as unknown as SQSEvent;
    const observability = createObservability('writer', { STAGE: 'test' });
    const published = new Map<string, number>();
    vi.spyOn(observability.metrics, 'addMetric').mockImplementation((name, _unit, value) => {
      published.set(name, value);
      return observability.metrics;
    });
    const handler = createWriterHandler(
      () => ({
        store: new PostgresEventStore(db.pool),
        ledger: new RecordingLedger(),
        settings: WRITER_SETTINGS,
        log: silentLog,
      }),
      observability,
    );

    // Act
    const response = await handler(sqsEvent);

    // Assert
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    expect(Object.fromEntries(published)).toMatchObject({
      EventsInserted: 2,
      DuplicatesSkipped: 1,
      EventsOutOfRange: 1,
      MalformedMessages: 1,
      FailedMessages: 1,
      LedgerErrors: 0,
    });
    expect(published.get('BatchLatency')).toBeGreaterThan(0);
    expect(published.get('FreshnessLag')).toBeGreaterThanOrEqual(5_000);
    expect(published.get('FreshnessLag')).toBeLessThan(60_000);
  });
});
