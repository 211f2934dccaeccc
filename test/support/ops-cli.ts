/** Runs the ops CLI in-process as an operator would, capturing what it prints. */
import { vi } from 'vitest';
import { main } from '../../ops/cli';

export async function ops(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...line) => void out.push(line.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...line) => void err.push(line.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
