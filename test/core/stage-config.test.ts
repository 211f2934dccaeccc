import { describe, expect, it } from 'vitest';
import { STAGES, type StageConfig, stageConfigs, validateStageConfig } from '../../lib/config/stage-config';

/** The local stage's config with some settings changed. */
function localWith(change: (config: StageConfig) => StageConfig): StageConfig {
  return change(structuredClone(stageConfigs.local));
}

describe('Function: validateStageConfig', () => {
  it.each(STAGES)('accepts the %s stage as shipped', (stage) => {
    expect(() => validateStageConfig(stageConfigs[stage])).not.toThrow();
  });

  it.each([
    [
      'a writer batch larger than one invocation can carry',
      localWith((c) => ({ ...c, writer: { ...c.writer, batchSize: 30 } })),
      /writer\.batchSize 30/,
    ],
    [
      'a writer concurrency outside the event source range',
      localWith((c) => ({ ...c, writer: { ...c.writer, maxConcurrency: 1 } })),
      /writer\.maxConcurrency must be 2-1000/,
    ],
    [
      // 30 days of accepted age + 14 in the DLQ + 4 in the queue after a re-drive.
      'a raw retention shorter than an accepted event can wait',
      localWith((c) => ({ ...c, retention: { ...c.retention, rawEventDays: 48 } })),
      /retention\.rawEventDays 48 is too short: accepted events can reach the writer 49 days old/,
    ],
    [
      'more days than one partition call creates',
      localWith((c) => ({ ...c, retention: { ...c.retention, rawEventDays: 395 } })),
      /rawEventDays \+ partitions\.createAheadDays must be at most 400 days, got 402/,
    ],
  ])('refuses %s, naming the setting', (_, config, message) => {
    expect(() => validateStageConfig(config)).toThrow(message);
  });

  it('accepts the shortest raw retention that still stores every accepted event', () => {
    const config = localWith((c) => ({ ...c, retention: { ...c.retention, rawEventDays: 49 } }));
    expect(() => validateStageConfig(config)).not.toThrow();
  });
});
