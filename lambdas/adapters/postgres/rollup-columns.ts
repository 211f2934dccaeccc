/** The 24 hourly count columns of a rollup row, h00..h23 (migration 0001): one upsert serves days and hours. */
export const HOUR_COLUMNS = Array.from({ length: 24 }, (_, hour) => `h${String(hour).padStart(2, '0')}`);

/** The 24 hourly counts of a group of rows with an `hour_of_day` column, as h00..h23 (SQL). */
export const HOURLY_COUNTS_SQL = HOUR_COLUMNS.map(
  (column, hour) => `count(*) FILTER (WHERE hour_of_day = ${hour}) AS ${column}`,
).join(', ');

/** `SET` assignments that add (or subtract) `source`'s counts to a rollup row aliased `r` (SQL). */
export function combineCountsSql(operator: '+' | '-', source: string): string {
  return ['events', ...HOUR_COLUMNS]
    .map((column) => `${column} = r.${column} ${operator} ${source}.${column}`)
    .join(', ');
}
