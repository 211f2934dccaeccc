import type { Log } from '../../lambdas/core/ports';

/** A log that says nothing: for tests that assert on outcomes, not on log lines. */
export const silentLog: Log = { info() {}, warn() {}, error() {} };
