import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsyncs a directory so that entries created, renamed or removed in it survive a crash. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces a small file atomically and durably: write a temporary file, fsync, rename, fsync the dir. */
export async function writeFileDurably(path: string, content: string | Buffer): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, content);
  const handle = await open(temporary, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}
