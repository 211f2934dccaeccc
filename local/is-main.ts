/**
 * Whether the calling module is the one Node was started with (`node x.ts`, `tsx x.ts`), so a
 * module can be both imported (tests) and run. Usage: `if (isMain(import.meta.url)) await main()`.
 *
 * Compares URLs, not strings built by hand: `file://${path}` breaks on a space, `%`, `#` or any
 * other character a URL escapes, and the script path may be a symlink (Node runs its real path).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function isMain(importMetaUrl: string, scriptPath: string | undefined = process.argv[1]): boolean {
  if (!scriptPath) return false;
  if (pathToFileURL(scriptPath).href === importMetaUrl) return true;
  try {
    return pathToFileURL(realpathSync(scriptPath)).href === importMetaUrl;
  } catch {
    return false;
  }
}
