/**
 * `ops dlq redrive` against a scripted SQS: the ledger's dead items are revived (so the freshness
 * watermark waits for their messages) only when a move task can be started, and always before it.
 */
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoMessageLedger } from '../../lambdas/adapters/dynamodb/message-ledger';
import { dlqRedrive } from '../../ops/commands';
import { OpsError, type OpsTarget } from '../../ops/target';
import { scriptedTarget } from '../support/ops-target';

const DLQ_ARN = 'arn:aws:sqs:us-east-1:000000000000:events-dlq';

describe('Function: dlqRedrive', () => {
  const sqs = mockClient(SQSClient);
  let steps: string[];
  let target: OpsTarget;

  beforeEach(() => {
    sqs.reset();
    steps = [];
    const ledger = {
      reviveDead: async () => {
        steps.push('revive');
        return 2;
      },
    } as unknown as DynamoMessageLedger;
    target = scriptedTarget({
      ledger,
      queues: { events: 'http://sqs/events', deadLetter: 'http://sqs/events-dlq', deadLetterArn: DLQ_ARN },
    });
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqs.on(StartMessageMoveTaskCommand).callsFake(() => {
      steps.push('start');
      return { TaskHandle: 'task-1' };
    });
  });

  afterEach(() => {
    sqs.reset();
  });

  const run = (values: Record<string, string | boolean> = {}) =>
    dlqRedrive(target, { positionals: [], values });

  it('revives the dead ledger items before it starts the move task', async () => {
    // Act
    const output = await run({ rate: '5' });

    // Assess
    expect(steps).toEqual(['revive', 'start']);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({
      SourceArn: DLQ_ARN,
      MaxNumberOfMessagesPerSecond: 5,
    });
    expect(output.json).toEqual({ taskHandle: 'task-1', messages: 2, revived: 2 });
  });

  it('revives nothing and starts nothing while a move task is already running', async () => {
    // Prepare
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 4 },
      ],
    });

    // Act
    const redrive = run();

    // Assess
    await expect(redrive).rejects.toBeInstanceOf(OpsError);
    await expect(redrive).rejects.toThrow(/already running .* \(1 \/ 4 moved\)\. Nothing was changed/);
    expect(steps).toEqual([]);
  });

  it('says what it left pending when the move task cannot be started', async () => {
    // Prepare
    sqs.on(StartMessageMoveTaskCommand).rejects(new Error('AccessDenied'));

    // Act
    const redrive = run();

    // Assess
    await expect(redrive).rejects.toThrow(
      /Could not start the move task: AccessDenied\. 2 ledger items were made pending again .* run `npm run ops -- dlq redrive` again/,
    );
    expect(steps).toEqual(['revive']);
  });

  it('refuses a rate SQS would refuse, before reviving anything', async () => {
    await expect(run({ rate: 'fast' })).rejects.toThrow(/--rate must be a whole number/);
    await expect(run({ rate: '501' })).rejects.toThrow(/--rate must be a whole number/);
    expect(steps).toEqual([]);
  });
});
