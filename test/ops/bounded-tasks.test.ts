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

/** Whether `promise` has settled once pending callbacks have run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('Class: BoundedTasks', () => {
  it('runs at most `limit` tasks at once, each of them', async () => {
    const tasks = new BoundedTasks(3);
    let running = 0;
    let most = 0;
    const finished: number[] = [];

    await tasks.run(async () => {
      for (let i = 0; i < 10; i++) {
        await tasks.start(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
          finished.push(i);
        });
      }
    });

    expect(most).toBe(3);
    expect(finished.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('starts nothing after a failure, and throws it only once the running tasks have ended', async () => {
    const tasks = new BoundedTasks(2);
    const slow = gate();
    const started: string[] = [];

    const running = tasks.run(async () => {
      await tasks.start(async () => {
        started.push('slow');
        await slow.done;
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
    });

    expect(await hasSettled(running)).toBe(false); // the slow task still runs
    slow.release();
    await expect(running).rejects.toThrow('first');
    expect(started).toEqual(['slow', 'failing']);
  });

  it("waits for the started tasks when the producer itself fails, and throws the producer's error", async () => {
    const tasks = new BoundedTasks(4);
    const slow = gate();
    let slowEnded = false;

    const running = tasks.run(async () => {
      await tasks.start(async () => {
        await slow.done;
        slowEnded = true;
      });
      throw new Error('listing failed');
    });

    expect(await hasSettled(running)).toBe(false);
    slow.release();
    await expect(running).rejects.toThrow('listing failed');
    expect(slowEnded).toBe(true);
  });

  it('reports only the first of several failures', async () => {
    const tasks = new BoundedTasks(2);
    const both = gate();
    const started: string[] = [];

    // Both start before either fails, then fail in order.
    const running = tasks.run(async () => {
      for (const name of ['one', 'two']) {
        await tasks.start(async () => {
          started.push(name);
          await both.done;
          throw new Error(name);
        });
      }
      both.release();
    });

    await expect(running).rejects.toThrow('one');
    expect(started).toEqual(['one', 'two']);
  });
});
