/**
 * The SQS stand-in: the AWS JSON 1.0 protocol over HTTP on 127.0.0.1, queues rebuilt from a durable
 * journal in `dir`, fault injection on every call. The real @aws-sdk/client-sqs talks to it unchanged.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../client-config';
import type { FaultController } from '../faults/fault-controller';
import { startAwsJsonServer, type WireError } from '../http/aws-json-server';
import { LOCALHOST } from '../http/http-server';
import { SqsError, sqsErrors } from './errors';
import { Journal, readJournal } from './journal';
import { MoveTaskRunner } from './move-tasks';
import { createSqsOperations } from './operations';
import { QueueStore } from './queue-store';

export interface SqsStandinOptions {
  /** Directory of the journal; created if missing. Reusing it restarts with every accepted message. */
  readonly dir: string;
  /** 0 or unset: a free port chosen by the kernel. */
  readonly port?: number;
  readonly region?: string;
  readonly accountId?: string;
  /** Compact the journal when it exceeds max(this, 2 × last snapshot). Default 64 MiB. */
  readonly compactAtBytes?: number;
  readonly onError?: (error: unknown) => void;
}

export interface SqsStandin {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  readonly faults: FaultController;
  /** The in-memory state, for tests that inspect it; clients should use the SDK. */
  readonly store: QueueStore;
  readonly journal: Journal;
  queueUrl(name: string): string;
  queueArn(name: string): string;
  /** Answers waiting long polls with no messages, closes the port, flushes and closes the journal. */
  stop(): Promise<void>;
  /** Crash: sockets destroyed, unwritten journal records dropped, nothing flushed. */
  kill(): void;
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** How often expired messages are swept (they are never delivered either way). */
const EXPIRY_SWEEP_MS = 10_000;

export async function startSqsStandin(options: SqsStandinOptions): Promise<SqsStandin> {
  const region = options.region ?? LOCAL_REGION;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  let endpoint = `http://${LOCALHOST}:${options.port ?? 0}`;
  const store = new QueueStore({ region, accountId, endpoint: () => endpoint });

  for (const record of await readJournal(options.dir)) store.apply(record);
  const journal = await Journal.open(options.dir, () => store.snapshot(), {
    ...(options.compactAtBytes !== undefined ? { compactAtBytes: options.compactAtBytes } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  store.attach((record) => journal.write(record));
  store.expireAll();

  const moveTasks = new MoveTaskRunner(store, () => void journal.durable().catch(() => undefined));
  const server = await startAwsJsonServer(
    (faults) => ({
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      maxBodyBytes: MAX_REQUEST_BYTES,
      operations: createSqsOperations({ store, journal, moveTasks, faults }),
      errorFor: (error) => {
        if (error instanceof SqsError) return error.toWire();
        options.onError?.(error);
        return sqsErrors.internalError().toWire();
      },
      injectedError: (kind) =>
        (kind === 'down'
          ? sqsErrors.serviceUnavailable()
          : kind === 'throttle'
            ? sqsErrors.requestThrottled()
            : sqsErrors.internalError()
        ).toWire(),
      protocolError: (kind, message): WireError => {
        if (kind === 'too-large') return new SqsError('RequestEntityTooLarge', message, 413).toWire();
        const type = kind === 'serialization' ? 'SerializationException' : 'UnknownOperationException';
        return { status: 400, body: { __type: `com.amazon.coral.service#${type}`, message } };
      },
    }),
    options.port,
  ).catch(async (error: unknown) => {
    await journal.close(); // a start that failed (its port taken) leaves no open journal behind
    throw error;
  });
  endpoint = server.endpoint;

  const sweep = setInterval(() => store.expireAll(), EXPIRY_SWEEP_MS);
  sweep.unref();

  let stopped = false;
  return {
    endpoint,
    port: server.port,
    region,
    accountId,
    faults: server.faults,
    store,
    journal,
    queueUrl: (name) => store.urlOf(name),
    queueArn: (name) => store.arnOf(name),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      moveTasks.stop();
      await server.close();
      await journal.close();
    },
    kill() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweep);
      moveTasks.stop();
      server.kill();
      journal.abandon();
    },
  };
}
