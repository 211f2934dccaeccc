/**
 * One local pipeline for a test file, as `npm start` runs it, with the ops CLI pointed at it
 * (FIREHOSE_DIR), and a way to read back what its Firehose stand-in archived.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { vi } from 'vitest';
import {
  ARCHIVE_EVENTS_ROOT,
  type ArchivedEvent,
  parseArchiveLines,
} from '../../lambdas/core/archive-records';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { s3ClientConfig } from '../../local/standins/client-config';
import { type ArchiveLocation, archiveObjectKeys, readArchiveObject } from '../../ops/archive-objects';
import { makeTempDir, removeTempDir } from './temp-dir';

export interface TestPipeline {
  readonly pipeline: LocalPipeline;
  readonly dir: string;
  /** The archive bucket, through the real S3 client. */
  readonly archive: ArchiveLocation;
  stop(): Promise<void>;
}

export async function startTestPipeline(label: string): Promise<TestPipeline> {
  const dir = await makeTempDir(label);
  vi.stubEnv('FIREHOSE_DIR', dir);
  const pipeline = await startLocalPipeline({ dir, port: 0 });
  const archive = {
    s3: new S3Client(s3ClientConfig(pipeline.standins.endpoints.s3)),
    bucket: pipeline.archiveBucket,
  };
  return {
    pipeline,
    dir,
    archive,
    async stop() {
      archive.s3.destroy();
      await pipeline.stop();
      vi.unstubAllEnvs();
      await removeTempDir(dir);
    },
  };
}

/** Every event in the archive's `events/` objects, in no particular order. */
export async function archivedEvents(archive: ArchiveLocation): Promise<ArchivedEvent[]> {
  const events: ArchivedEvent[] = [];
  for await (const key of archiveObjectKeys(archive, ARCHIVE_EVENTS_ROOT)) {
    events.push(...parseArchiveLines(await readArchiveObject(archive, key)).events);
  }
  return events;
}
