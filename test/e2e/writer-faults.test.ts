/**
 * The local runtime's fault hooks, used as the chaos tests will: a writer killed between commit and
 * delete, and a writer exceeding its timeout. Both lead to redeliveries; nothing is counted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageConfigs } from '../../lib/config/stage-config';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { getSummary, postEvents } from '../support/http-client';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { waitFor } from '../support/wait';

const config = { ...stageConfigs.local, writer: { ...stageConfigs.local.writer, timeoutSeconds: 2 } };

describe('Local pipeline: writer faults', () => {
  let pipeline: LocalPipeline;
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('faults');
    pipeline = await startLocalPipeline({
      dir,
      port: 0,
      config,
      visibilityTimeoutSeconds: 1,
    });
  }, 60_000);
  afterAll(async () => {
    await pipeline?.stop();
    await removeTempDir(dir);
  });

  /** Sends `n` events of type `prefix`; fails unless the summary counts exactly `n` of them in time. */
  async function sendAndWaitCounted(prefix: string, n: number): Promise<void> {
    const { accountId, apiKey } = pipeline.demo!;
    const events = [...Array(n)].map((_, i) => ({
      event_id: `${prefix}-${i}`,
      user_id: `u${i % 3}`,
      type: prefix,
      timestamp: Date.now(),
    }));
    expect((await postEvents(pipeline.endpoint, apiKey, events)).status).toBe(202);
    await waitFor(`${n} ${prefix} events counted`, async () => {
      const { body } = await getSummary(pipeline.endpoint, apiKey, accountId, { window: 'last_1h' });
      return body.totals?.[prefix] === n;
    });
  }

  async function countOf(type: string): Promise<number> {
    const { apiKey, accountId } = pipeline.demo!;
    const { body } = await getSummary(pipeline.endpoint, apiKey, accountId, { window: 'last_1h' });
    return body.totals[type];
  }

  it('counts a batch once when the writer is killed after committing and before deleting', async () => {
    pipeline.runner.faults.killAfterHandler = 1;
    await sendAndWaitCounted('killed', 50);
    // A first invocation slower than the 2 s timeout (a cold worker on a busy machine) is stopped as
    // a timeout instead, after its commit; the redelivery then takes the kill.
    await waitFor(
      'a writer to be killed after its handler',
      async () => pipeline.runner.faults.killAfterHandler === 0,
    );
    const killed = pipeline.runner.invocations.findIndex((i) => i.outcome === 'killed');
    expect(killed).toBeGreaterThanOrEqual(0);
    // The batch comes back after the visibility timeout and is written again, as duplicates.
    await waitFor('the redelivered batch to be written', async () =>
      pipeline.runner.invocations.slice(killed + 1).some((i) => i.outcome === 'ok'),
    );
    expect(await countOf('killed')).toBe(50);
  }, 60_000);

  it('retries a batch whose invocation exceeded the timeout', async () => {
    pipeline.runner.faults.delayMs = 3_000;
    pipeline.runner.faults.delayInvocations = 1;
    await sendAndWaitCounted('slow', 20);
    // The visibility timeout here (1 s) is shorter than the function's (2 s), so another worker may
    // have written the redelivery before the slow one is killed; wait for the kill itself.
    await waitFor('the slow invocation to time out', async () =>
      pipeline.runner.invocations.some((i) => i.outcome === 'timeout'),
    );
    expect(await countOf('slow')).toBe(20);
  }, 60_000);
});
