/**
 * Starts the stand-ins in a child process (local/standins-child.ts) and gives the parent what it
 * needs of them: endpoints, SDK client config, queue URLs and ARNs, and stop(). Their faults are
 * switched over each stand-in's own `/__faults` endpoint (docs/local-standins.md).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type StandinClientConfigs,
  type StandinEndpoints,
  type StartStandinsOptions,
  standinClientConfigs,
} from './standins/index';

export interface StandinsProcess {
  readonly endpoints: StandinEndpoints;
  readonly clients: StandinClientConfigs;
  readonly region: string;
  queueUrl(name: string): string;
  queueArn(name: string): string;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./standins-child.ts', import.meta.url));

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type === type) {
        cleanup();
        resolve(message as T);
      } else if (message.type === 'error') {
        cleanup();
        reject(new Error(message.message));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the stand-ins process exited (code ${code})`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startStandinsProcess(
  options: Omit<StartStandinsOptions, 'onError'>,
  log: (line: string) => void = () => undefined,
): Promise<StandinsProcess> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', (message: { type: string; line?: string }) => {
    if (message.type === 'log' && message.line) log(message.line);
  });
  // A failed spawn or kill is reported as 'error' (sends report to their callbacks); 'exit' carries
  // the consequence, so the event is logged rather than left to crash the parent.
  child.on('error', (error) => log(`stand-ins process: ${error.message}`));
  try {
    await next(child, 'loaded');
    child.send({ type: 'start', options }, () => undefined);
    const ready = await next<{
      endpoints: StandinEndpoints;
      region: string;
      queues: Record<string, { url: string; arn: string }>;
    }>(child, 'ready');
    const queue = (name: string) => {
      const found = ready.queues[name];
      if (!found) throw new Error(`no queue "${name}" was created`);
      return found;
    };
    return {
      endpoints: ready.endpoints,
      clients: standinClientConfigs(ready.endpoints),
      region: ready.region,
      queueUrl: (name) => queue(name).url,
      queueArn: (name) => queue(name).arn,
      async stop() {
        if (child.exitCode !== null || !child.connected) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.send({ type: 'stop' }, () => undefined);
        await next(child, 'stopped').catch(() => undefined);
        if (child.connected) child.disconnect();
        await exited;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
