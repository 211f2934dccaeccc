import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lambdas/core/errors';
import { dayPieces, parseSummaryQuery } from '../../lambdas/core/summary-window';

const NOW = Date.parse('2026-11-22T10:05:00Z');

function expectRefusal(run: () => unknown, code: string, field?: string) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(code);
    if (field) expect((error as ApiError).details.field).toBe(field);
    return;
  }
  throw new Error('expected a refusal');
}

describe('Function: parseSummaryQuery', () => {
  it('defaults to last_24h and top 10: 24 whole hours plus the current partial hour', () => {
    const { window, top } = parseSummaryQuery(null, NOW, 90);
    expect(top).toBe(10);
    expect(window).toEqual({
      name: 'last_24h',
      fromMs: Date.parse('2026-11-21T10:00:00Z'),
      toMs: Date.parse('2026-11-22T11:00:00Z'),
    });
  });

  it.each([
    ['last_1h', '2026-11-22T09:00:00Z'],
    ['last_7d', '2026-11-15T10:00:00Z'],
    ['last_30d', '2026-10-23T10:00:00Z'],
  ])('resolves %s to whole hours ending with the current one', (name, from) => {
    const { window } = parseSummaryQuery({ window: name }, NOW, 90);
    expect(new Date(window.fromMs).toISOString()).toBe(new Date(from).toISOString());
    expect(new Date(window.toMs).toISOString()).toBe('2026-11-22T11:00:00.000Z');
  });

  it('takes an hour-aligned from/to with any offset', () => {
    const { window } = parseSummaryQuery(
      { from: '2026-11-01T00:00:00Z', to: '2026-11-02T05:00:00+02:00', top: '100' },
      NOW,
      90,
    );
    expect(window).toEqual({
      name: 'custom',
      fromMs: Date.parse('2026-11-01T00:00:00Z'),
      toMs: Date.parse('2026-11-02T03:00:00Z'),
    });
  });

  it.each([
    [{ window: 'last_2h' }, 'invalid_window', 'window'],
    [{ window: '__proto__' }, 'invalid_window', 'window'],
    [{ from: '2026-11-01T00:00:00Z' }, 'invalid_range', 'to'],
    [{ from: '2026-11-01T00:30:00Z', to: '2026-11-02T00:00:00Z' }, 'invalid_range', 'from'],
    [{ from: '2026-11-01', to: '2026-11-02T00:00:00Z' }, 'invalid_range', 'from'],
    [{ from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'invalid_range', 'to'],
    [{ from: '2026-01-01T00:00:00Z', to: '2026-05-01T00:00:00Z' }, 'invalid_range', 'to'],
    [
      { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', window: 'last_1h' },
      'invalid_range',
      'window',
    ],
    [{ from: '0000-01-01T00:00:00Z', to: '0000-01-02T00:00:00Z' }, 'invalid_range', 'from'],
    // Impossible calendar dates are refused, not rolled over (Feb 30 is not Mar 2).
    [{ from: '2026-02-30T00:00:00Z', to: '2026-03-05T00:00:00Z' }, 'invalid_range', 'from'],
    [{ from: '2026-11-01T00:00:00Z', to: '2026-11-01T24:00Z' }, 'invalid_range', 'to'],
    [{ from: '2026-11-01T00:00:00Z', to: '9999-01-01T00:00:00Z' }, 'invalid_range', 'to'],
    [{ top: '0' }, 'invalid_parameter', 'top'],
    [{ top: '101' }, 'invalid_parameter', 'top'],
    [{ top: '1.5' }, 'invalid_parameter', 'top'],
  ])('refuses %j with %s', (query, code, field) => {
    expectRefusal(() => parseSummaryQuery(query, NOW, 90), code, field);
  });
});

describe('Function: dayPieces', () => {
  it('splits a window into whole days and partial edge days', () => {
    const window = {
      name: 'custom' as const,
      fromMs: Date.parse('2026-11-20T22:00:00Z'),
      toMs: Date.parse('2026-11-23T03:00:00Z'),
    };
    expect(dayPieces(window)).toEqual([
      { day: '2026-11-20', fromHour: 22, toHour: 24 },
      { day: '2026-11-21', fromHour: 0, toHour: 24 },
      { day: '2026-11-22', fromHour: 0, toHour: 24 },
      { day: '2026-11-23', fromHour: 0, toHour: 3 },
    ]);
  });

  it('gives one piece for a window inside a day', () => {
    const window = {
      name: 'custom' as const,
      fromMs: Date.parse('2026-11-20T09:00:00Z'),
      toMs: Date.parse('2026-11-20T11:00:00Z'),
    };
    expect(dayPieces(window)).toEqual([{ day: '2026-11-20', fromHour: 9, toHour: 11 }]);
  });
});
