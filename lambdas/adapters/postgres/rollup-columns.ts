/** The 24 hourly count columns of a rollup row, h00..h23 (migration 0001): one upsert serves days and hours. */
export const HOUR_COLUMNS = Array.from({ length: 24 }, (_, hour) => `h${String(hour).padStart(2, '0')}`);
