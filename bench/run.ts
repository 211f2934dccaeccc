/**
 * `npm run bench -- [writer|ingest|summary|e2e|standins] [options]`: runs one benchmark, or with no
 * name all of them in turn (about 15 minutes on 2 cores). Results and how to read them:
 * docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES: Record<string, string> = {
  writer: 'writer.ts',
  ingest: 'ingest.ts',
  summary: 'summary.ts',
  e2e: 'e2e.ts',
  standins: 'standins/startup.ts',
};

const [name, ...options] = process.argv.slice(2);
if (name !== undefined && !BENCHES[name]) {
  console.error(
    `Unknown benchmark "${name}". Choose one of: ${Object.keys(BENCHES).join(', ')} (or none for all).`,
  );
  process.exit(2);
}
let failed = false;
for (const bench of name ? [name] : Object.keys(BENCHES)) {
  const file = fileURLToPath(new URL(BENCHES[bench]!, import.meta.url));
  // Each benchmark in its own process, so none inherits another's warm caches or open servers.
  const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...options], {
    stdio: 'inherit',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  if (result.status !== 0) failed = true;
  console.log();
}
process.exit(failed ? 1 : 0);
