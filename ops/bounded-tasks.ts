/**
 * At most `limit` tasks at a time, for the ops commands that fan out (seed's requests, the erasure's
 * archive rewrites). The first failure stops new tasks from starting, and `run` returns or throws
 * only once every started task has ended: a command never leaves work running behind its error.
 */
export class BoundedTasks {
  private readonly running = new Set<Promise<void>>();
  private failure: { readonly error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** Whether a task has failed: the producer stops making work. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Waits for a free slot, then starts `task`; starts nothing once a task has failed. */
  async start(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) return;
    const running: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error }; // the first failure is the one reported
      })
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  /**
   * Runs `produce`, which starts the tasks, then waits for every started task. Throws what stopped
   * the work: `produce`'s own error, or else the first task's failure.
   */
  async run(produce: () => Promise<void>): Promise<void> {
    try {
      await produce();
    } finally {
      await Promise.all(this.running);
    }
    if (this.failure) throw this.failure.error;
  }
}
