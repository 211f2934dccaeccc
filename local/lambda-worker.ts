/**
 * A Lambda execution environment in a child process: loads a handler module once (its module scope
 * lives as long as the process, like a warm Lambda instance) and runs one invocation at a time on
 * request from the parent. The parent can kill it at any moment, as Lambda does on a timeout.
 *
 * argv: <handler module path> <function name>
 */
import { lambdaContext } from './lambda-context';
import { sleep } from './sleep';

interface Invocation {
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
  /** Fault hook: sleep this long before running the handler (to exceed the timeout). */
  readonly delayMs?: number;
}

const [modulePath, functionName = 'function'] = process.argv.slice(2);
if (!modulePath || !process.send) {
  console.error('lambda-worker: run me with fork(<worker>, [<handler module>, <name>])');
  process.exit(2);
}

const module = (await import(modulePath)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
process.on('message', async (invocation: Invocation) => {
  try {
    if (invocation.delayMs) await sleep(invocation.delayMs);
    const result = await module.handler(invocation.event, lambdaContext(functionName, invocation.timeoutMs));
    process.send!({ id: invocation.id, result });
  } catch (error) {
    process.send!({
      id: invocation.id,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
});
// The parent stops us (by closing the channel, or killing us on a timeout); a terminal's Ctrl-C
// reaches every process of the group, and must not cut an invocation short while the parent drains.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.send({ ready: true });
