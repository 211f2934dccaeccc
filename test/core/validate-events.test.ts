import { describe, expect, it } from 'vitest';
import { parseTimestamp, validateEvents } from '../../lambdas/core/validate-events';

const rules = {
  maxEventsPerRequest: 500,
  maxBodyBytes: 1 << 20,
  maxEventAgeDays: 30,
  maxFutureSkewSeconds: 300,
  maxMetadataBytes: 16384,
  maxMetadataDepth: 8,
};
const NOW = Date.parse('2026-11-22T12:00:00Z');
const base = { event_id: 'e', user_id: 'u', type: 't', timestamp: NOW };

function verdict(event: Record<string, unknown>) {
  const { accepted, rejected } = validateEvents([event], 'acct', NOW, rules);
  return accepted.length === 1 ? 'accepted' : `${rejected[0]!.code}:${rejected[0]!.field}`;
}

describe('Function: validateEvents', () => {
  it.each([
    ['a NUL character', { a: 'x\u0000y' }, 'invalid_format:metadata'],
    ['a lone high surrogate', { a: '\ud800' }, 'invalid_format:metadata'],
    ['a lone low surrogate in a key', { '\udc00': 1 }, 'invalid_format:metadata'],
    ['a valid surrogate pair', { a: '🚀' }, 'accepted'],
    ['U+FFFF, which SQS refuses', { a: 'x\uFFFFy' }, 'invalid_format:metadata'],
    ['U+FFFE in a key', { '\uFFFE': 1 }, 'invalid_format:metadata'],
    ['U+FFFD, which SQS takes', { a: '\uFFFD' }, 'accepted'],
    ['the text "\\u0000" (backslash, u, zeros)', { a: '\\u0000' }, 'accepted'],
    ['a backslash then a NUL', { a: '\\\u0000' }, 'invalid_format:metadata'],
    ['eight levels of nesting', { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } }, 'accepted'],
    ['nine levels through arrays', { a: [[[[[[[[1]]]]]]]] }, 'metadata_too_deep:metadata'],
    ['exactly 16 KiB serialised', { a: 'x'.repeat(16384 - 8) }, 'accepted'],
    ['16 KiB and one byte', { a: 'x'.repeat(16384 - 7) }, 'metadata_too_large:metadata'],
  ])('judges metadata with %s', (_, metadata, expected) => {
    expect(verdict({ ...base, metadata })).toBe(expected);
  });

  it('refuses ids holding a character SQS refuses', () => {
    expect(verdict({ ...base, user_id: 'u\uFFFE' })).toBe('invalid_format:user_id');
    expect(verdict({ ...base, event_id: 'e\uFFFF' })).toBe('invalid_format:event_id');
  });

  it('reports a missing timestamp as missing, not as the wrong type', () => {
    const { event_id, user_id, type } = base;
    expect(verdict({ event_id, user_id, type })).toBe('missing_field:timestamp');
  });

  it('accepts timestamps exactly at the future and past limits, and not a millisecond beyond', () => {
    expect(verdict({ ...base, timestamp: NOW + 300_000 })).toBe('accepted');
    expect(verdict({ ...base, timestamp: NOW + 300_001 })).toBe('timestamp_in_future:timestamp');
    expect(verdict({ ...base, timestamp: NOW - 30 * 86_400_000 })).toBe('accepted');
    expect(verdict({ ...base, timestamp: NOW - 30 * 86_400_000 - 1 })).toBe('timestamp_too_old:timestamp');
  });

  it('normalises every accepted timestamp to canonical UTC with milliseconds', () => {
    const { accepted } = validateEvents(
      [
        { ...base, event_id: 'a', timestamp: '2026-11-22T13:30:00.1234+02:00' },
        { ...base, event_id: 'b', timestamp: NOW - 1 },
      ],
      'acct',
      NOW,
      rules,
    );
    expect(accepted.map((e) => e.timestamp)).toEqual([
      '2026-11-22T11:30:00.123Z',
      '2026-11-22T11:59:59.999Z',
    ]);
  });
});

describe('Function: parseTimestamp', () => {
  it.each([
    '2026-02-30T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T10:00:00',
    '2026-11-22T10:00:00+25:00',
    '22/11/2026',
    '',
  ])('rejects %j', (value) => {
    expect(typeof parseTimestamp(value)).not.toBe('number');
  });

  it.each([1.5, -1, Number.MAX_SAFE_INTEGER + 2])('rejects the number %d', (value) => {
    expect(typeof parseTimestamp(value)).not.toBe('number');
  });
});
