import { describe, expect, it } from 'vitest';
import { BoundedTasks } from '../../ops/bounded-tasks';

/** A promise the test resolves when it chooses. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { done, release };
}

describe('Class: BoundedTasks', () => {
  it('runs at most `limit` tasks at once, each of them', async () => {
    const tasks = new BoundedTasks(3);
    let running = 0;
    let most = 0;
    const finished: number[] = [];

    for (let i = 0; i < 10; i++) {
      await tasks.start(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        finished.push(i);
      });
    }
    await tasks.finish();

    expect(most).toBe(3);
    expect(finished.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('starts nothing after a failure, waits for the running tasks, then throws the first failure', async () => {
    const tasks = new BoundedTasks(2);
    const slow = gate();
    let slowEnded = false;
    const started: string[] = [];

    await tasks.start(async () => {
      started.push('slow');
      await slow.done;
      slowEnded = true;
    });
    await tasks.start(async () => {
      started.push('failing');
      throw new Error('first');
    });
    // Waits for the failing task's slot, then refuses to start the next one.
    await tasks.start(async () => {
      started.push('after');
    });
    expect(tasks.failed).toBe(true);

    const finishing = tasks.finish();
    slow.release();
    await expect(finishing).rejects.toThrow('first');
    expect(started).toEqual(['slow', 'failing']);
    expect(slowEnded).toBe(true);
  });

  it('reports only the first of several failures', async () => {
    const tasks = new BoundedTasks(2);
    await tasks.start(() => Promise.reject(new Error('one')));
    await tasks.start(() => Promise.reject(new Error('two')));

    await expect(tasks.finish()).rejects.toThrow('one');
  });
});
