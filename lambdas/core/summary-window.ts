/**
 * Summary windows, pure: query parameters → the exact hour-aligned [from, to) that is counted, and
 * its decomposition into UTC days (whole days, and at most two partial days at the edges) as the
 * day rollups store them.
 *
 * `last_N` windows are N whole hours plus the current partial hour: at 10:05, last_1h counts
 * 09:00-11:00. `from`/`to` must both be given, hour-aligned, with to - from <= the maximum range.
 */
import { ApiError } from './errors';
import { DAY_MS, floorToDay, floorToHour, HOUR_MS, parseIsoInstant, utcDay } from './time-buckets';

export const NAMED_WINDOWS = { last_1h: 1, last_24h: 24, last_7d: 7 * 24, last_30d: 30 * 24 } as const;
export type NamedWindow = keyof typeof NAMED_WINDOWS;
export const DEFAULT_WINDOW: NamedWindow = 'last_24h';
export const DEFAULT_TOP = 10;
export const MAX_TOP = 100;

/** Every cache entry of an account starts with this (account ids cannot contain `#`). */
export function summaryCachePrefix(accountId: string): string {
  return `summary#${accountId}#`;
}

/** The cache entry of one account's answer to one window and `top`. */
export function summaryCacheKey(accountId: string, window: SummaryWindow, top: number): string {
  return `${summaryCachePrefix(accountId)}${window.name}#${window.fromMs}#${window.toMs}#${top}`;
}

export interface SummaryWindow {
  /** The named window, or "custom" for from/to. */
  readonly name: NamedWindow | 'custom';
  readonly fromMs: number;
  readonly toMs: number;
}

export interface SummaryQuery {
  readonly window: SummaryWindow;
  readonly top: number;
}

export interface DayPiece {
  readonly day: string;
  /** Hours [fromHour, toHour) of that day; 0-24 is the whole day. */
  readonly fromHour: number;
  readonly toHour: number;
}

/** Bounds of a sensible from/to: nothing was ever stored before 2000 or a year from now. */
const EARLIEST_MS = Date.parse('2000-01-01T00:00:00Z');
const LATEST_AHEAD_MS = 366 * DAY_MS;

function parseInstant(name: 'from' | 'to', value: string, nowMs: number): number {
  const ms = parseIsoInstant(value, { requireSeconds: false });
  if (ms === undefined)
    throw new ApiError('invalid_range', `"${name}" must be an ISO-8601 time with an offset.`, {
      field: name,
    });
  if (ms < EARLIEST_MS || ms > nowMs + LATEST_AHEAD_MS) {
    throw new ApiError('invalid_range', `"${name}" must be between 2000 and a year from now.`, {
      field: name,
    });
  }
  if (ms % HOUR_MS !== 0)
    throw new ApiError('invalid_range', `"${name}" must be on an hour boundary (UTC).`, { field: name });
  return ms;
}

export function parseSummaryQuery(
  query: Readonly<Record<string, string | undefined>> | null,
  nowMs: number,
  maxRangeDays: number,
): SummaryQuery {
  const params = query ?? {};
  const topText = params.top;
  let top = DEFAULT_TOP;
  if (topText !== undefined) {
    top = /^\d{1,3}$/.test(topText) ? Number(topText) : Number.NaN;
    if (!(top >= 1 && top <= MAX_TOP)) {
      throw new ApiError('invalid_parameter', `"top" must be an integer from 1 to ${MAX_TOP}.`, {
        field: 'top',
      });
    }
  }
  if (params.from !== undefined || params.to !== undefined) {
    if (params.from === undefined || params.to === undefined) {
      throw new ApiError('invalid_range', 'Give both "from" and "to", or neither.', {
        field: params.from === undefined ? 'from' : 'to',
      });
    }
    if (params.window !== undefined) {
      throw new ApiError('invalid_range', 'Give either "window" or "from"/"to", not both.', {
        field: 'window',
      });
    }
    const fromMs = parseInstant('from', params.from, nowMs);
    const toMs = parseInstant('to', params.to, nowMs);
    if (toMs <= fromMs) throw new ApiError('invalid_range', '"to" must be after "from".', { field: 'to' });
    if (toMs - fromMs > maxRangeDays * DAY_MS) {
      throw new ApiError('invalid_range', `A range may span at most ${maxRangeDays} days.`, { field: 'to' });
    }
    return { window: { name: 'custom', fromMs, toMs }, top };
  }
  const name = params.window ?? DEFAULT_WINDOW;
  if (!Object.hasOwn(NAMED_WINDOWS, name)) {
    throw new ApiError(
      'invalid_window',
      `"window" must be one of ${Object.keys(NAMED_WINDOWS).join(', ')}.`,
      { field: 'window' },
    );
  }
  const hours = NAMED_WINDOWS[name as NamedWindow];
  const toMs = floorToHour(nowMs) + HOUR_MS;
  return { window: { name: name as NamedWindow, fromMs: toMs - (hours + 1) * HOUR_MS, toMs }, top };
}

/** The UTC days a window touches, each with the hours of it that are inside the window. */
export function dayPieces(window: SummaryWindow): DayPiece[] {
  const pieces: DayPiece[] = [];
  for (let dayStart = floorToDay(window.fromMs); dayStart < window.toMs; dayStart += DAY_MS) {
    const from = Math.max(window.fromMs, dayStart);
    const to = Math.min(window.toMs, dayStart + DAY_MS);
    pieces.push({
      day: utcDay(dayStart),
      fromHour: (from - dayStart) / HOUR_MS,
      toHour: (to - dayStart) / HOUR_MS,
    });
  }
  return pieces;
}
