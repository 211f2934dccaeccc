import { describe, expect, it } from 'vitest';
import type { QueueMessage } from '../../lambdas/core/queue-message';
import { planBatch, writableDays } from '../../lambdas/core/writer-batch';

function message(
  key: string,
  account: string,
  ids: [string, string][],
): { messageId: string; message: QueueMessage } {
  return {
    messageId: `sqs-${key}`,
    message: {
      v: 1,
      message_key: key,
      account_id: account,
      request_id: key,
      received_at: '2026-11-22T12:00:00.000Z',
      events: ids.map(([event_id, timestamp]) => ({ event_id, user_id: 'u', type: 't', timestamp })),
    },
  };
}

describe('Function: writableDays', () => {
  it('spans retention back from today and the partitions kept ahead', () => {
    expect(writableDays(Date.parse('2026-11-22T23:59:00Z'), 90, 7)).toEqual({
      first: '2026-08-25',
      last: '2026-11-29',
    });
  });
});

describe('Function: planBatch', () => {
  const writable = { first: '2026-11-01', last: '2026-11-29' };

  it('keeps the first occurrence of an event id per account across messages', () => {
    const plan = planBatch(
      [
        message('m1', 'a', [
          ['e1', '2026-11-22T10:00:00.000Z'],
          ['e1', '2026-11-22T11:00:00.000Z'],
        ]),
        message('m2', 'a', [['e1', '2026-11-20T10:00:00.000Z']]),
        message('m3', 'b', [['e1', '2026-11-21T10:00:00.000Z']]),
      ],
      writable,
    );

    expect(plan.rows.map((row) => `${row.account_id}/${row.event_id}@${row.event_time}`)).toEqual([
      'a/e1@2026-11-22T10:00:00.000Z',
      'b/e1@2026-11-21T10:00:00.000Z',
    ]);
    expect(plan.duplicatesInBatch).toBe(2);
    expect(plan.days).toEqual(['2026-11-21', '2026-11-22']);
    expect(plan.messages.map((m) => m.message_key)).toEqual(['m1', 'm2', 'm3']);
  });

  it('sets aside events outside the writable days, with the reason', () => {
    const plan = planBatch(
      [
        message('m1', 'a', [
          ['old', '2026-10-31T23:59:59.999Z'],
          ['ok', '2026-11-01T00:00:00.000Z'],
          ['far', '2026-11-30T00:00:00.000Z'],
        ]),
      ],
      writable,
    );

    expect(plan.rows.map((row) => row.event_id)).toEqual(['ok']);
    expect(plan.skipped.map((s) => [s.event_id, s.reason])).toEqual([
      ['old', 'older_than_retention'],
      ['far', 'beyond_partitions_ahead'],
    ]);
  });
});
