/** UTC day and hour arithmetic on ISO strings and epoch milliseconds, shared by writer and summary. */

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/** `YYYY-MM-DD` (UTC) of an ISO-8601 UTC timestamp such as Date#toISOString produces. */
export function utcDayOfIso(iso: string): string {
  return iso.slice(0, 10);
}

export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return utcDay(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS);
}

export function floorToHour(epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS) * HOUR_MS;
}

export function floorToDay(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS) * DAY_MS;
}

/**
 * Whether the fields name a real moment of the proleptic Gregorian calendar: no Feb 30, no 24:00,
 * no leap second (Date would roll them over into the next day or minute).
 */
export function isCalendarTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): boolean {
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Epoch milliseconds of an ISO-8601 time with an offset (`Z` or `±hh:mm`), or undefined. Calendar
 * fields are checked, not normalised as Date.parse does (Feb 30 is not Mar 2; 24:00 is refused).
 */
export function parseIsoInstant(value: string, { requireSeconds = true } = {}): number | undefined {
  const match = ISO_WITH_OFFSET.exec(value);
  if (!match || (requireSeconds && match[6] === undefined)) return undefined;
  const [year, month, day, hour, minute] = match.slice(1, 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = Number(match[6] ?? 0);
  const offsetMinutes =
    match[8] === 'Z' ? 0 : (match[8]!.startsWith('-') ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10]));
  if (!isCalendarTime(year, month, day, hour, minute, second) || Math.abs(offsetMinutes) > 18 * 60) {
    return undefined;
  }
  const millis = Number((match[7] ?? '0').padEnd(3, '0').slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}
