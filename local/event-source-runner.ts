/**
 * The local event source mapping: polls the queue and invokes the writer as Lambda's SQS event
 * source does — batch size, batching window, maximum concurrency, partial batch responses
 * (ReportBatchItemFailures), a timeout — in child processes that really die on a timeout or crash.
 * Failed or unprocessed messages are not deleted: they come back after the visibility timeout and
 * reach the DLQ after maxReceiveCount, as on AWS.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sleep } from './sleep';
import { LOCAL_REGION } from './standins/client-config';

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly maxConcurrency: number;
  readonly timeoutMs: number;
  /** Absolute path of the handler module (exports `handler`). */
  readonly handlerModule: string;
  readonly functionName: string;
  readonly env: Readonly<Record<string, string>>;
  readonly onLog?: (message: string, details?: Record<string, unknown>) => void;
}

/** Knobs for fault tests. Each armed fault applies to the next invocations, then disarms. */
export interface EventSourceFaults {
  /** Kill the worker after the handler returned, before any delete: a crash between commit and delete. */
  killAfterHandler: number;
  /** Delay the next invocations by this much inside the worker (exceeding the timeout kills it). */
  delayMs: number;
  delayInvocations: number;
}

export interface InvocationRecord {
  readonly messages: number;
  readonly outcome: 'ok' | 'partial' | 'error' | 'timeout' | 'killed';
  readonly failed: number;
}

const WORKER = fileURLToPath(new URL('./lambda-worker.ts', import.meta.url));
const LONG_POLL_SECONDS = 2;

class Worker {
  private child: ChildProcess;
  private nextId = 0;
  readonly ready: Promise<void>;

  constructor(options: EventSourceOptions) {
    this.child = fork(WORKER, [options.handlerModule, options.functionName], {
      env: { ...options.env, NODE_NO_WARNINGS: '1' },
      execArgv: ['--import', 'tsx'],
      // Its logs (LOG_LEVEL) go where the parent's go.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // A send to a worker that has just died, or a failed spawn, is reported as 'error'; 'exit' or the
    // start promise carries the consequence, and an unheard 'error' would crash the whole pipeline.
    this.child.on('error', () => undefined);
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', () => resolve());
      this.child.once('exit', (code) => reject(new Error(`worker exited during start (code ${code})`)));
      this.child.once('error', (error) => reject(new Error(`worker could not start: ${error.message}`)));
    });
  }

  /** The handler's result, or 'timeout' (worker killed), or 'crash' (worker died). */
  invoke(
    event: SQSEvent,
    timeoutMs: number,
    delayMs: number,
  ): Promise<{ result?: unknown; error?: string } | 'timeout' | 'crash'> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const onMessage = (message: { id: number; result?: unknown; error?: string }) => {
        if (message.id !== id) return;
        cleanup();
        resolve(message);
      };
      const onExit = () => {
        cleanup();
        resolve('crash');
      };
      const timer = setTimeout(() => {
        cleanup();
        this.kill();
        resolve('timeout');
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      // A send to a worker that is dying fails through 'error' (ignored above); its exit answers.
      this.child.send({ id, event, timeoutMs, delayMs });
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.kill(), 2_000);
    await exited;
    clearTimeout(timer);
  }
}

function toRecord(message: Message, options: EventSourceOptions): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: LOCAL_REGION,
  };
}

export class EventSourceRunner {
  readonly faults: EventSourceFaults = { killAfterHandler: 0, delayMs: 0, delayInvocations: 0 };
  readonly invocations: InvocationRecord[] = [];
  private running = false;
  private readonly workers: (Worker | undefined)[] = [];
  private readonly loops: Promise<void>[] = [];
  private abort = new AbortController();

  constructor(private readonly options: EventSourceOptions) {}

  async start(): Promise<void> {
    this.running = true;
    this.abort = new AbortController();
    this.loops.length = 0;
    for (let slot = 0; slot < this.options.maxConcurrency; slot++)
      this.workers[slot] = new Worker(this.options);
    await Promise.all(this.workers.map((worker) => worker!.ready));
    for (let slot = 0; slot < this.options.maxConcurrency; slot++) this.loops.push(this.loop(slot));
  }

  /** Stops polling, lets running invocations finish (their deletes too), then stops the workers. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.all(this.loops);
    await Promise.all(this.workers.map((worker) => worker?.close()));
  }

  private worker(slot: number): Worker {
    let worker = this.workers[slot];
    if (!worker?.alive) {
      worker = new Worker(this.options);
      this.workers[slot] = worker;
    }
    return worker;
  }

  private async loop(slot: number): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.collectBatch();
        if (messages.length > 0) await this.invoke(slot, messages);
      } catch (error) {
        if (!this.running) break;
        this.options.onLog?.('event source: polling failed; retrying', { error: String(error) });
        await sleep(500, this.abort.signal);
      }
    }
  }

  /** Up to batchSize messages: the first long-polled, then whatever arrives within the window. */
  private async collectBatch(): Promise<Message[]> {
    const { sqs, queueUrl, batchSize, batchingWindowMs } = this.options;
    const batch: Message[] = [];
    let windowEnds = Number.POSITIVE_INFINITY;
    while (this.running && batch.length < batchSize) {
      const remaining = windowEnds - Date.now();
      if (batch.length > 0 && remaining <= 0) break;
      let Messages: Message[] = [];
      try {
        ({ Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, batchSize - batch.length),
            WaitTimeSeconds: batch.length === 0 ? LONG_POLL_SECONDS : 0,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        ));
      } catch (error) {
        // Stopping: hand over what was already received instead of leaving it invisible for a
        // whole visibility timeout.
        if (!this.running && batch.length > 0) return batch;
        throw error;
      }
      if (Messages.length > 0 && batch.length === 0) windowEnds = Date.now() + batchingWindowMs;
      batch.push(...Messages);
      if (Messages.length === 0 && batch.length > 0) await sleep(Math.min(50, remaining), this.abort.signal);
    }
    return batch;
  }

  private async invoke(slot: number, messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, this.options)) };
    const worker = this.worker(slot);
    await worker.ready;
    const delayMs = this.faults.delayInvocations > 0 ? this.faults.delayMs : 0;
    if (delayMs > 0) this.faults.delayInvocations--;
    const answer = await worker.invoke(event, this.options.timeoutMs, delayMs);
    if (answer === 'timeout' || answer === 'crash') {
      this.record({
        messages: messages.length,
        outcome: answer === 'timeout' ? 'timeout' : 'killed',
        failed: messages.length,
      });
      return;
    }
    if (this.faults.killAfterHandler > 0) {
      this.faults.killAfterHandler--;
      worker.kill();
      this.record({ messages: messages.length, outcome: 'killed', failed: messages.length });
      return;
    }
    if (answer.error !== undefined) {
      this.options.onLog?.('writer invocation failed; the whole batch will be retried', {
        error: answer.error,
      });
      this.record({ messages: messages.length, outcome: 'error', failed: messages.length });
      return;
    }
    const failures = new Set(
      ((answer.result as SQSBatchResponse | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier),
    );
    // Like Lambda: an identifier that names no message of the batch fails the whole batch.
    if ([...failures].some((id) => !event.Records.some((record) => record.messageId === id))) {
      this.record({ messages: messages.length, outcome: 'error', failed: messages.length });
      return;
    }
    const done = event.Records.filter((record) => !failures.has(record.messageId));
    for (let i = 0; i < done.length; i += 10) {
      await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: done
            .slice(i, i + 10)
            .map((record, j) => ({ Id: String(j), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
    this.record({
      messages: messages.length,
      outcome: failures.size > 0 ? 'partial' : 'ok',
      failed: failures.size,
    });
  }

  private record(invocation: InvocationRecord): void {
    this.invocations.push(invocation);
    if (this.invocations.length > 10_000) this.invocations.splice(0, 5_000);
  }
}
