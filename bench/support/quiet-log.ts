import type { Log } from '../../lambdas/core/ports';

/** Benchmarks keep quiet except for errors, which would make a number meaningless. */
export const quietLog: Log = { info() {}, warn() {}, error: console.error };
