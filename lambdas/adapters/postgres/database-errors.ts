/**
 * Tells a database that is unreachable or overloaded (retry the whole batch later) from a statement
 * that failed because of the data it was given (isolate the message that carries it).
 */

const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATE classes meaning "the server or connection is in trouble", not "your data is wrong". */
const TRANSIENT_SQLSTATE_PREFIXES = ['08', '53', '57', '58', '40', 'XX'];

export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  // 22: data exception (bad value, NUL byte, bad JSON); 23: integrity constraint violation.
  return code.startsWith('22') || code.startsWith('23');
}

export function isTransientDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (TRANSIENT_NODE_CODES.has(code)) return true;
    if (code.length === 5 && TRANSIENT_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix)))
      return true;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    message,
  );
}
