/** Writer ledgers for tests that do not exercise the freshness watermark. */
import type { LedgerEntry, WriterLedger } from '../../lambdas/core/ports';

/** Accepts every update and forgets it. */
export const ignoredLedger: WriterLedger = {
  markCommitted: async () => undefined,
  markDead: async () => undefined,
};

/** Remembers what the writer told it. */
export class RecordingLedger implements WriterLedger {
  readonly committed: string[] = [];
  readonly dead: LedgerEntry[] = [];
  async markCommitted(keys: readonly string[]): Promise<void> {
    this.committed.push(...keys);
  }
  async markDead(entries: readonly LedgerEntry[]): Promise<void> {
    this.dead.push(...entries);
  }
}
