/**
 * The operator CLI: `npm run ops -- <command> [--stage local|dev|staging|prod] [options]`.
 * Run `npm run ops -- help` for the list. Acts on the running local pipeline by default.
 */
import { parseArgs } from 'node:util';
import { isMain } from '../local/is-main';
import { archiveReplay } from './archive-replay';
import {
  dlqRedrive,
  dlqStatus,
  keysCreate,
  keysRevoke,
  tenantsCreate,
  tenantsShow,
  tenantsUpdate,
} from './commands';
import { erasuresList, tenantsDelete, usersErase } from './erasure';
import type { CommandOptions } from './options';
import { refuseProd, seed } from './seed';
import { OpsError, type OpsTarget, resolveTarget } from './target';

const HELP = `firehose operator commands

  npm run ops -- <command> [--stage local|dev|staging|prod] [--json]

tenants
  tenants create --name "Acme" [--tier free|standard|enterprise] [--id acct_acme]
                      an account and its first secret key (ingest + read), printed once
  tenants show <account>          the account and its keys (prefixes, scopes, status, last use)
  tenants suspend <account>       every key of the account stops working (within the cache TTL)
  tenants activate <account>
  tenants tier <account> <tier>   change the account's limits
  tenants delete <account> --confirm <account> [--reason "..."] [--by <name>]
                      removes the tenant and all its data: keys, events, rollups, cached
                      summaries and archive lines (waits for Firehose's buffer); audited
users
  users erase --account <id> --user <user id> [--reason "..."] [--by <name>]
                      a privacy request: the user's events, their share of the rollups, cached
                      summaries and archive lines; audited without keeping the user id
  erasures list [--account <id>] [--limit 20]
                      the erasures' audit records, newest first
keys
  keys create --account <id> [--kind secret|publishable] [--origin https://app.example]...
              [--scopes ingest,read] [--description "..."]
  keys revoke --account <id> --key <prefix or full key>
dead-letter queue
  dlq status                      depth of the DLQ and the queue, and why messages failed (local)
  dlq redrive [--rate <msgs/s>] [--wait]
                      moves every DLQ message back to the event queue (StartMessageMoveTask)
archive
  archive replay --from <ISO time> --to <ISO time> [--account <id>] [--rate <events/s>] [--dry-run]
                      sends the archived events received in [from, to) back to the writer
                      (times with Z or an offset; each event is still counted once; safe to repeat)
test data (not on prod)
  seed [--accounts 5] [--events 10000] [--days 7] [--seed N] [--tier enterprise]
       [--batch 250] [--concurrency 4]
                      realistic generated events for accounts acct_0000… (a whale and a Zipf
                      tail), sent through the API; prints a new key per account
                      (--concurrency: requests, and accounts prepared, at a time)

--stage local (default) uses the pipeline started by npm start (<FIREHOSE_DIR>/local.json,
default .firehose); other stages read their CloudFormation outputs with your AWS credentials.`;

type Runner = (target: OpsTarget, options: CommandOptions) => Promise<{ lines: string[]; json: unknown }>;

/** Each command, how many words it takes after its name, and the options it reads. */
interface Command {
  readonly run: Runner;
  readonly args?: number;
  readonly options?: readonly (keyof typeof OPTIONS)[];
  /** Checks the options need no target for; throws an OpsError. */
  readonly check?: (values: { readonly stage?: string }) => void;
}

const ACCOUNT_ARG = { args: 1, options: ['account'] } as const;

const COMMANDS: Record<string, Command> = {
  'tenants create': { run: tenantsCreate, options: ['name', 'tier', 'id'] },
  'tenants show': { run: tenantsShow, ...ACCOUNT_ARG },
  'tenants suspend': { run: (target, options) => tenantsUpdate(target, options, 'suspend'), ...ACCOUNT_ARG },
  'tenants activate': {
    run: (target, options) => tenantsUpdate(target, options, 'activate'),
    ...ACCOUNT_ARG,
  },
  'tenants tier': {
    run: (target, options) => tenantsUpdate(target, options, 'tier'),
    args: 2,
    options: ['account', 'tier'],
  },
  'tenants delete': { run: tenantsDelete, args: 1, options: ['account', 'confirm', 'reason', 'by'] },
  'users erase': { run: usersErase, options: ['account', 'user', 'reason', 'by'] },
  'erasures list': { run: erasuresList, options: ['account', 'limit'] },
  'keys create': { run: keysCreate, options: ['account', 'kind', 'origin', 'scopes', 'description'] },
  'keys revoke': { run: keysRevoke, options: ['account', 'key'] },
  'dlq status': { run: (target) => dlqStatus(target) },
  'dlq redrive': { run: dlqRedrive, options: ['rate', 'wait'] },
  'archive replay': { run: archiveReplay, options: ['from', 'to', 'account', 'rate', 'dry-run'] },
  seed: {
    run: seed,
    options: ['accounts', 'events', 'days', 'seed', 'tier', 'batch', 'concurrency'],
    check: (values) => refuseProd(values.stage!),
  },
};

/** Options every command takes. */
const COMMON_OPTIONS = new Set(['stage', 'json', 'help']);

/** What a command was given but does not use: refused, so a typo is not silently ignored. */
function unused(name: string, command: Command, args: readonly string[], values: object): string | undefined {
  const extra = args.slice(command.args ?? 0);
  if (extra.length > 0) return `"${name}" does not take "${extra.join(' ')}".`;
  const allowed = new Set<string>(command.options ?? []);
  const stray = Object.keys(values).filter((option) => !COMMON_OPTIONS.has(option) && !allowed.has(option));
  if (stray.length > 0) return `"${name}" does not use ${stray.map((option) => `--${option}`).join(', ')}.`;
  return undefined;
}

const OPTIONS = {
  stage: { type: 'string', default: 'local' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  tier: { type: 'string' },
  id: { type: 'string' },
  account: { type: 'string' },
  kind: { type: 'string' },
  origin: { type: 'string', multiple: true },
  scopes: { type: 'string' },
  description: { type: 'string' },
  key: { type: 'string' },
  rate: { type: 'string' },
  wait: { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
  confirm: { type: 'string' },
  limit: { type: 'string' },
  user: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  accounts: { type: 'string' },
  events: { type: 'string' },
  days: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (argv: readonly string[]) =>
  parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });

export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // An unknown option or a missing value: say which, and how it is used (no stack trace).
    console.error(`${(error as Error).message}\n`);
    console.error(HELP);
    return 2;
  }
  const { positionals, values } = parsed;
  const name =
    [positionals.slice(0, 2).join(' '), positionals[0] ?? ''].find((each) => each in COMMANDS) ?? '';
  const command = COMMANDS[name];
  const askedForHelp = values.help || positionals[0] === 'help';
  if (askedForHelp || !command) {
    console.log(HELP);
    if (!askedForHelp && positionals.length > 0) {
      console.error(`\nUnknown command "${positionals.join(' ')}".`);
      return 2;
    }
    return 0;
  }
  const args = positionals.slice(name.split(' ').length);
  const refused = unused(name, command, args, values);
  if (refused) {
    console.error(`${refused} See npm run ops -- help.`);
    return 2;
  }
  try {
    command.check?.(values);
    const target = await resolveTarget(values.stage!);
    const output = await command.run(target, { positionals: args, values });
    console.log(values.json ? JSON.stringify(output.json, null, 2) : output.lines.join('\n'));
    return 0;
  } catch (error) {
    console.error(error instanceof OpsError ? error.message : `Failed: ${(error as Error).message}`);
    return 1;
  }
}

if (isMain(import.meta.url)) {
  // The SDK's notice that its releases from 2027 need Node 22 does not apply to the pinned versions
  // here; on every command it would bury the answer.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.exitCode = await main(process.argv.slice(2));
}
