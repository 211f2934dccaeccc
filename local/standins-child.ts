/**
 * The stand-ins in their own process, so that on `npm start` they do not share an event loop with
 * the API, the handlers and the load. The parent sends {start} and {stop} over IPC and talks to the
 * stand-ins themselves over HTTP, as the handlers do. A terminal's Ctrl-C reaches this process too:
 * it is ignored, because the parent still needs the queue while it drains.
 */
import { type Standins, type StartStandinsOptions, startStandins } from './standins/index';

type Request = { type: 'start'; options: StartStandinsOptions } | { type: 'stop' };

let standins: Standins | undefined;
// A parent that has gone away (killed) cannot be told anything: sending would throw.
const send = (message: unknown) => {
  if (process.connected) process.send?.(message);
};

async function stop(): Promise<void> {
  const running = standins;
  standins = undefined;
  await running?.stop();
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
process.on('message', async (request: Request) => {
  try {
    if (request.type === 'start') {
      standins = await startStandins({
        ...request.options,
        onError: (error) => send({ type: 'log', line: `stand-in: ${String(error)}` }),
      });
      const queues = Object.fromEntries(
        (request.options.queues ?? []).map((queue) => [
          queue.name,
          { url: standins!.queueUrl(queue.name), arn: standins!.sqs.queueArn(queue.name) },
        ]),
      );
      send({
        type: 'ready',
        endpoints: standins.endpoints,
        region: standins.region,
        queues,
      });
    } else {
      await stop();
      send({ type: 'stopped' });
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
send({ type: 'loaded' });
