/**
 * The local runtime's fault hooks, used as the chaos tests will: a writer killed between commit and
 * delete, and a writer exceeding its timeout. Both lead to redeliveries; nothing is counted twice.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageConfigs } from '../../lib/config/stage-config';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { getSummary, postEvents, waitFor } from '../support/http-client';

const config = { ...stageConfigs.local, writer: { ...stageConfigs.local.writer, timeoutSeconds: 2 } };

describe('Local pipeline: writer faults', () => {
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      dir: await mkdtemp(join(tmpdir(), 'firehose-faults-')),
      port: 0,
      config,
      visibilityTimeoutSeconds: 1,
    });
  }, 60_000);
  afterAll(async () => {
    await pipeline?.stop();
  });

  async function sendAndCount(prefix: string, n: number): Promise<number> {
    const { accountId, apiKey } = pipeline.demo!;
    const events = [...Array(n)].map((_, i) => ({
      event_id: `${prefix}-${i}`,
      user_id: `u${i % 3}`,
      type: prefix,
      timestamp: Date.now(),
    }));
    expect((await postEvents(pipeline.endpoint, apiKey, events)).status).toBe(202);
    const summary = await waitFor(`${n} ${prefix} events counted`, async () => {
      const { body } = await getSummary(pipeline.endpoint, apiKey, accountId, { window: 'last_1h' });
      return body.totals?.[prefix] === n ? body : undefined;
    });
    return summary.totals[prefix];
  }

  it('counts a batch once when the writer is killed after committing and before deleting', async () => {
    pipeline.runner.faults.killAfterHandler = 1;
    expect(await sendAndCount('killed', 50)).toBe(50);
    expect(pipeline.runner.faults.killAfterHandler).toBe(0);
    expect(pipeline.runner.invocations.some((i) => i.outcome === 'killed')).toBe(true);
    // Redelivered and written again as duplicates: still 50 after the dust settles.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const { body } = await getSummary(pipeline.endpoint, pipeline.demo!.apiKey, pipeline.demo!.accountId, {
      window: 'last_1h',
    });
    expect(body.totals.killed).toBe(50);
  }, 60_000);

  it('retries a batch whose invocation exceeded the timeout', async () => {
    pipeline.runner.faults.delayMs = 3_000;
    pipeline.runner.faults.delayInvocations = 1;
    expect(await sendAndCount('slow', 20)).toBe(20);
    // The visibility timeout here (1 s) is shorter than the function's (2 s), so another worker may
    // have written the redelivery before the slow one is killed; wait for the kill itself.
    await waitFor('the slow invocation to time out', async () =>
      pipeline.runner.invocations.some((i) => i.outcome === 'timeout'),
    );
    const { body } = await getSummary(pipeline.endpoint, pipeline.demo!.apiKey, pipeline.demo!.accountId, {
      window: 'last_1h',
    });
    expect(body.totals.slow).toBe(20);
  }, 60_000);
});
