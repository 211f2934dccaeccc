/**
 * The main-module guard of the CLIs (ops/cli.ts, load/run.ts): a script under a path with a space
 * (or any character a file URL escapes), or reached through a symlink, must still run.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMain } from '../../local/is-main';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

const IS_MAIN = join(import.meta.dirname, '..', '..', 'local', 'is-main.ts');

describe('Function: isMain', () => {
  let root: string;

  beforeAll(async () => {
    root = await makeTempDir('is-main');
  });

  afterAll(async () => {
    await removeTempDir(root);
  });

  it.each(['with space', 'per%cent', 'hash#tag', 'ünï'])(
    'recognises the script it was started with under a directory named "%s"',
    (name) => {
      const script = join(root, name, 'cli.ts');

      expect(isMain(pathToFileURL(script).href, script)).toBe(true);
      expect(isMain(pathToFileURL(join(root, name, 'other.ts')).href, script)).toBe(false);
      expect(isMain(pathToFileURL(script).href, undefined)).toBe(false);
    },
  );

  it('runs a script started from a directory with a space in its name, and through a symlink to it', async () => {
    // Prepare: a script that reports whether it is the main module.
    const dir = join(root, 'dir with space');
    await mkdir(dir, { recursive: true });
    const script = join(dir, 'cli.ts');
    await writeFile(
      script,
      `import { isMain } from ${JSON.stringify(pathToFileURL(IS_MAIN).href)};\n` +
        "console.log(isMain(import.meta.url) ? 'main' : 'imported');\n",
    );
    const link = join(root, 'link to cli.ts');
    await symlink(script, link);
    const run = (path: string) =>
      execFileSync(process.execPath, ['--import', 'tsx', path], { encoding: 'utf8' }).trim();

    // Act
    const direct = run(script);
    const linked = run(link);

    // Assess
    expect(direct).toBe('main');
    expect(linked).toBe('main');
  });
});
