import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir; each test file makes its own, so files can run in parallel. */
export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `firehose-${label}-`));
}

export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
