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
import { stageConfig } from '../lib/config/stage-config';
import { isMain } from '../local/is-main';
import { readRunningLocalState } from '../local/local-state';
import { stackOutputs } from '../ops/target';

// The SDK's notice that its 2027 releases will need Node 22 is not news here (README, Quick start).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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

/** The run's shape from the options; throws with what is wrong. */
export function loadShape(values: Values): { rate: number; seconds: number; batch: number } {
  const config = stageConfig(values.stage!);
  const whole = (name: 'rate' | 'seconds' | 'batch', max: number) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new Error(`--${name} must be a whole number from 1 to ${max} (got "${values[name]}").`);
    return value;
  };
  return {
    rate: whole('rate', 10_000),
    seconds: whole('seconds', 86_400),
    batch: whole('batch', config.ingest.maxEventsPerRequest),
  };
}

/** What a failed check usually means, by the status the API answered. */
const FAILED_RUN_HINT = `The run failed a check (the "fail:" lines above). Responses other than 2xx are counted by status as firehose.status_<code>:
  401/403: the key or account (--key, --account) is wrong, revoked or suspended
  413: --batch is larger than the API takes
  429: the account's tier is too small for this rate (npm run ops -- tenants tier <id> enterprise)
  503: the API could not make events durable (see the runbook)`;

/** Runs the scenario; resolves to the exit code (2: bad arguments, 1: no target or a failed run). */
export async function main(argv: readonly string[]): Promise<number> {
  let values: Values;
  let shape: ReturnType<typeof loadShape>;
  try {
    ({ values } = parse(argv));
    shape = loadShape(values);
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
  const phases = [{ name: 'steady', duration: shape.seconds, arrivalRate: shape.rate }];
  console.log(
    `load: ${shape.rate} requests/s of ${shape.batch} events for ${shape.seconds} s against ${url}`,
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
        LOAD_BATCH: String(shape.batch),
        // Artillery's browser engine is not used; its browser download fails offline.
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
      },
    },
  );
  if (result.status !== 0) console.error(`\n${FAILED_RUN_HINT}`);
  return result.status ?? 1;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
