/**
 * PostgreSQL connections each instance of the writer and of the summary function holds: the size of
 * their pools, and the factor of the connection budget the CDK app checks (lib/config/database.ts,
 * design promise 5). One constant, so the budget and the pools cannot disagree.
 */
export const CONNECTIONS_PER_INSTANCE = 1;
