import { spawnSync } from 'node:child_process';

/** The pid of a process that has ended (a stale state file's owner). */
export function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}
