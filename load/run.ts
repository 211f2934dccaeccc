/**
 * `npm run load -- [--stage local|dev|staging|prod] [--rate 20] [--seconds 60] [--batch 100]
 *                  [--key <api key> --account <account id>]`
 *
 * Runs the Artillery scenario load/ingest.yml against the local pipeline (default: the endpoint,
 * account and key in <FIREHOSE_DIR>/local.json, FIREHOSE_DIR defaulting to .firehose; 127.0.0.1
 * only) or a deployed stage (its ApiUrl output; pass a key and account made with
 * `npm run ops -- tenants create --stage <stage> ...`). Artillery 2.0.21 is fetched on first use
 * with npx, so it is not part of `npm install`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVICE_OUTPUTS } from '../lib/config/stack-outputs';
import { isMain } from '../local/is-main';
import { readRunningLocalState } from '../local/local-state';
import { stackOutputs } from '../ops/target';

const ARTILLERY = 'artillery@2.0.21';

const USAGE = `npm run load -- [--stage local|dev|staging|prod] [--rate 20] [--seconds 60] [--batch 100]
                 [--key <api key> --account <account id>]`;

const OPTIONS = {
  stage: { type: 'string', default: 'local' },
  rate: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '60' },
  batch: { type: 'string', default: '100' },
  key: { type: 'string' },
  account: { type: 'string' },
} as const;

const parse = (argv: readonly string[]) => parseArgs({ args: [...argv], options: OPTIONS });
type Values = ReturnType<typeof parse>['values'];

export interface LoadTarget {
  readonly url: string;
  readonly key: string;
  readonly account: string;
}

/** The endpoint, key and account to load: the running local pipeline's, or a deployed stage's. */
export async function loadTarget(values: Values): Promise<LoadTarget> {
  if (values.stage === 'local') {
    const local = await readRunningLocalState();
    if (new URL(local.endpoint).hostname !== '127.0.0.1')
      throw new Error(`Refusing to load ${local.endpoint}: not 127.0.0.1.`);
    return {
      url: local.endpoint,
      key: values.key ?? local.api_key,
      account: values.account ?? local.account_id,
    };
  }
  if (!values.key || !values.account) {
    throw new Error(
      'Against a deployed stage, pass --key and --account (npm run ops -- tenants create --stage ...).',
    );
  }
  const { output } = await stackOutputs(values.stage!, 'service');
  const apiUrl = output(SERVICE_OUTPUTS.apiUrl);
  return { url: apiUrl.replace(/\/$/, ''), key: values.key, account: values.account };
}

/** Runs the scenario; resolves to the exit code (2: bad arguments, 1: no target or a failed run). */
export async function main(argv: readonly string[]): Promise<number> {
  let values: Values;
  try {
    ({ values } = parse(argv));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let target: LoadTarget;
  try {
    target = await loadTarget(values);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  const { url, key, account } = target;
  const phases = [{ name: 'steady', duration: Number(values.seconds), arrivalRate: Number(values.rate) }];
  console.log(
    `load: ${values.rate} requests/s of ${values.batch} events for ${values.seconds} s against ${url}`,
  );
  const result = spawnSync(
    'npx',
    [
      '--yes',
      ARTILLERY,
      'run',
      fileURLToPath(new URL('./ingest.yml', import.meta.url)),
      '--target',
      url,
      '--overrides',
      JSON.stringify({ config: { phases } }),
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        FIREHOSE_API_KEY: key,
        FIREHOSE_ACCOUNT: account,
        LOAD_BATCH: values.batch,
        // Artillery's browser engine is not used; its browser download fails offline.
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
      },
    },
  );
  return result.status ?? 1;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
