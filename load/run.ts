/**
 * `npm run load -- [--stage local|dev|staging|prod] [--rate 20] [--seconds 60] [--batch 100]
 *                  [--key <api key> --account <account id>]`
 *
 * Runs the Artillery scenario load/ingest.yml against the local pipeline (default: the endpoint,
 * account and key in .firehose/local.json, 127.0.0.1 only) or a deployed stage (its ApiUrl output;
 * pass a key and account made with `npm run ops -- tenants create --stage <stage> ...`). Artillery
 * 2.0.21 is fetched on first use with npx, so it is not part of `npm install`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SERVICE_OUTPUTS, stackNames } from '../lib/config/stack-outputs';
import { stageConfig } from '../lib/config/stage-config';

const ARTILLERY = 'artillery@2.0.21';

const { values } = parseArgs({
  options: {
    stage: { type: 'string', default: 'local' },
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    batch: { type: 'string', default: '100' },
    key: { type: 'string' },
    account: { type: 'string' },
  },
});

async function target(): Promise<{ url: string; key: string; account: string }> {
  if (values.stage === 'local') {
    const file = resolve(process.env.FIREHOSE_DIR ?? '.firehose', 'local.json');
    let local: { endpoint: string; api_key: string; account_id: string };
    try {
      local = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new Error(`No running local pipeline (${file} is missing): start one with npm start.`);
    }
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
  const config = stageConfig(values.stage!);
  const { Stacks = [] } = await new CloudFormationClient({
    region: process.env.AWS_REGION ?? config.env.region,
  }).send(new DescribeStacksCommand({ StackName: stackNames(config.stage).service }));
  const apiUrl = Stacks[0]?.Outputs?.find(
    (output) => output.OutputKey === SERVICE_OUTPUTS.apiUrl,
  )?.OutputValue;
  if (!apiUrl)
    throw new Error(
      `No ${SERVICE_OUTPUTS.apiUrl} output on ${stackNames(config.stage).service}: is the stage deployed?`,
    );
  return { url: apiUrl.replace(/\/$/, ''), key: values.key, account: values.account };
}

try {
  const { url, key, account } = await target();
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
  process.exitCode = result.status ?? 1;
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
