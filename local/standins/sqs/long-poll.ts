/**
 * Waiting inside a long poll: wakes as soon as a message may be receivable (a send, a move, a
 * visibility change to 0), when the earliest hidden message reappears, at the deadline, or on abort.
 */
import type { Queue } from './queue';
import type { QueueStore } from './queue-store';

export function waitForMessages(
  store: QueueStore,
  queue: Queue,
  deadline: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const now = store.clock();
    const reappears = store.nextVisibleAt(queue);
    const wakeAt = reappears === undefined ? deadline : Math.min(deadline, reappears);
    const timer = setTimeout(done, Math.max(0, wakeAt - now));
    const unsubscribe = store.subscribe(queue.name, done);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
