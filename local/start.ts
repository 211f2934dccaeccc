/**
 * `npm start`: the whole pipeline on this machine (see README, Quick start). Prints the endpoint, the
 * demo account and key, and a curl line; writes them to .firehose/local.json. Ctrl-C drains
 * in-flight work and exits.
 *
 * Environment: PORT (default 4000), DATABASE_URL (use an existing PostgreSQL), FIREHOSE_DIR
 * (default .firehose), LOG_LEVEL (handlers' log level, default WARN; see docs/local.md).
 */
import { localStateDir, localStatePath, PipelineAlreadyRunningError } from './local-state';
import { type LocalPipeline, startLocalPipeline } from './pipeline';

// The SDK's notice that its 2027 releases will need Node 22 is not news here (README, Quick start).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const started = Date.now();
const dir = localStateDir();
const port = process.env.PORT === undefined ? 4000 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number (got "${process.env.PORT}").`);
  process.exit(2);
}

// Signals are handled from the start: a Ctrl-C while starting stops what was already started
// (PostgreSQL runs in its own process group and would otherwise be left running).
const starting = new AbortController();
let pipeline: LocalPipeline | undefined;
let stoppingSince = 0;
async function shutdown(signal: string) {
  // npm and tsx relay the terminal's signal too, so one Ctrl-C can arrive twice: only a second
  // press, a moment later, forces an immediate exit (the embedded PostgreSQL is still told to stop).
  if (stoppingSince > 0) {
    if (Date.now() - stoppingSince < 1_000) return;
    console.log('stopping immediately');
    process.exit(130);
  }
  stoppingSince = Date.now();
  if (!pipeline) {
    console.log(`\n${signal}: stopping what has started so far ...`);
    starting.abort(new Error(`${signal} during start`));
    return; // the start below stops it and exits
  }
  console.log(`\n${signal}: draining in-flight work ...`);
  await pipeline.stop();
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const step = (line: string) => console.log(`  ${line}`);
console.log('firehose: starting the local pipeline');
try {
  pipeline = await startLocalPipeline({
    dir,
    port,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    log: step,
    signal: starting.signal,
  });
} catch (error) {
  if (starting.signal.aborted) {
    console.log('stopped.');
    process.exit(130);
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`\nCould not start: ${message}`);
  if (error instanceof PipelineAlreadyRunningError) {
    // Nothing was touched: no advice about the directory, which belongs to the running pipeline.
  } else if (/EADDRINUSE/.test(message))
    console.error(`Port ${port} is taken: run with PORT=<another port> npm start.`);
  else console.error(`If ${dir} is damaged, move it away and start again (it holds only local data).`);
  process.exit(1);
}

const { endpoint, demo } = pipeline;
const sample = JSON.stringify({
  events: [{ event_id: 'hello-1', user_id: 'u1', type: 'page_view', timestamp: 'NOW' }],
}).replace('"NOW"', "'$(date +%s)000'");
console.log(`
ready in ${((Date.now() - started) / 1000).toFixed(1)} s

  endpoint   ${endpoint}
  account    ${demo?.accountId}
  api key    ${demo?.apiKey}
  (also in ${localStatePath(dir)})

try:
  curl -s -X POST ${endpoint}/events -H "Authorization: Bearer ${demo?.apiKey}" -H 'content-type: application/json' -d '${sample}'
  curl -s "${endpoint}/accounts/${demo?.accountId}/summary?window=last_1h" -H "Authorization: Bearer ${demo?.apiKey}"

more data: npm run ops -- seed        operator commands: npm run ops -- help

Ctrl-C stops (in-flight work is finished first; data stays in ${dir}).`);
