import { describe, expect, it } from 'vitest';
import {
  MalformedMessageError,
  packQueueMessages,
  parseQueueMessage,
  type QueuedEvent,
  serializeQueuedEvent,
} from '../../lambdas/core/queue-message';

const header = { account_id: 'acct-1', request_id: 'req-1', received_at: '2026-11-22T10:00:00.000Z' };

function events(count: number, metadataBytes = 100): QueuedEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    event_id: `e${i}`,
    user_id: `u${i % 7}`,
    type: 'page_view',
    timestamp: '2026-11-22T09:59:00.000Z',
    metadata: { pad: 'x'.repeat(metadataBytes), emoji: '🚀' },
  }));
}

describe('Function: packQueueMessages', () => {
  it('packs every event, in order, into versioned messages under the byte limit', () => {
    const input = { ...header, events: events(500, 900) };

    const bodies = packQueueMessages(
      { ...header, events: input.events.map((e) => serializeQueuedEvent(e)) },
      64 * 1024,
    );

    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
    const parsed = bodies.map(parseQueueMessage);
    expect(parsed.flatMap((message) => message.events)).toEqual(input.events);
    expect(parsed.map((message) => message.message_key)).toEqual(bodies.map((_, i) => `req-1:${i}`));
    expect(new Set(parsed.map((message) => message.v))).toEqual(new Set([1]));
  });

  it('puts a normal request in a single message', () => {
    expect(
      packQueueMessages({ ...header, events: events(100).map((e) => serializeQueuedEvent(e)) }),
    ).toHaveLength(1);
  });

  it('refuses an event that cannot fit in any message', () => {
    expect(() =>
      packQueueMessages({ ...header, events: events(1, 5000).map((e) => serializeQueuedEvent(e)) }, 1024),
    ).toThrow(/cannot fit/);
  });
});

describe('Function: parseQueueMessage', () => {
  const valid = JSON.parse(
    packQueueMessages({ ...header, events: events(2).map((e) => serializeQueuedEvent(e)) })[0]!,
  );

  it.each<[string, string, RegExp]>([
    ['not JSON', '{"v":1', /not JSON/],
    [
      'an unknown version',
      JSON.stringify({ ...valid, v: 2 }),
      /^v: unknown message version 2; this writer reads 1$/,
    ],
    ['no version', JSON.stringify({ ...valid, v: undefined }), /^v: unknown message version undefined/],
    ['JSON that is not an object', '[1]', /^message: must be a JSON object$/],
    ['no events', JSON.stringify({ ...valid, events: [] }), /^events:/],
    [
      'a timestamp with an offset',
      JSON.stringify({ ...valid, events: [{ ...valid.events[0], timestamp: '2026-11-22T10:00:00+01:00' }] }),
      /events\.0\.timestamp/,
    ],
    ...['2026-09-31T10:00:00.000Z', '2026-11-22T24:00:00.000Z', '2026-11-22T23:59:60.000Z'].map(
      (timestamp) =>
        [
          `a timestamp that is not a real instant (${timestamp})`,
          JSON.stringify({ ...valid, events: [valid.events[0], { ...valid.events[1], timestamp }] }),
          /events\.1\.timestamp: must be a canonical UTC timestamp of a real instant/,
        ] as [string, string, RegExp],
    ),
    [
      'a received_at that is not a real instant',
      JSON.stringify({ ...valid, received_at: '2026-02-29T00:00:00.000Z' }),
      /^received_at:/,
    ],
    [
      'metadata that is an array',
      JSON.stringify({ ...valid, events: [{ ...valid.events[0], metadata: [1] }] }),
      /events\.0\.metadata/,
    ],
    [
      'an over-long user id',
      JSON.stringify({ ...valid, events: [{ ...valid.events[0], user_id: 'u'.repeat(129) }] }),
      /events\.0\.user_id/,
    ],
  ])('rejects %s with the path of the problem', (_, body, pattern) => {
    expect(() => parseQueueMessage(body)).toThrow(MalformedMessageError);
    expect(() => parseQueueMessage(body)).toThrow(pattern);
  });

  it('ignores fields it does not know (a newer ingest during a deploy)', () => {
    expect(parseQueueMessage(JSON.stringify({ ...valid, future_field: true })).events).toHaveLength(2);
  });
});
