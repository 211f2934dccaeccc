import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyedByPk } from '../../local/dynamodb-tables';
import { freePorts } from '../../local/free-port';
import {
  type Standins,
  type StartStandinsOptions,
  standinEnvironment,
  startStandins,
} from '../../local/standins/index';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

describe('Function: startStandins', () => {
  let dir: string;
  let standins: Standins | undefined;

  const options = (root: string): StartStandinsOptions => ({
    dir: root,
    firehose: {
      bufferSeconds: 5,
      bufferBytes: 8 * 1024 * 1024,
      bucket: 'archive',
      streams: ['events-archive'],
    },
    queues: [
      {
        name: 'events',
        attributes: { VisibilityTimeout: '181' },
        deadLetterQueue: 'events-dlq',
        maxReceiveCount: 5,
      },
      { name: 'events-dlq', attributes: { MessageRetentionPeriod: '1209600' } },
    ],
    dynamodb: {
      tables: [keyedByPk('tenants')],
    },
  });

  beforeAll(async () => {
    dir = await makeTempDir('standins-launcher');
  });

  afterAll(async () => {
    await standins?.stop();
    await removeTempDir(dir);
  });

  it('starts all four on 127.0.0.1 and creates the queues, stream, bucket and tables it is told to', async () => {
    // Act
    standins = await startStandins(options(dir));
    const { clients, endpoints } = standins;
    const sqs = new SQSClient(clients.sqs);
    const queue = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: standins.queueUrl('events'), AttributeNames: ['All'] }),
    );
    const stream = await new FirehoseClient(clients.firehose).send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'events-archive' }),
    );
    const bucket = await new S3Client(clients.s3).send(new HeadBucketCommand({ Bucket: 'archive' }));
    const table = await new DynamoDBClient(clients.dynamodb).send(
      new DescribeTableCommand({ TableName: 'tenants' }),
    );

    // Assess
    for (const endpoint of Object.values(endpoints)) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set(Object.values(endpoints)).size).toBe(4);
    expect(queue.Attributes?.VisibilityTimeout).toBe('181');
    expect(JSON.parse(queue.Attributes!.RedrivePolicy!)).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:events-dlq',
      maxReceiveCount: 5,
    });
    expect(stream.DeliveryStreamDescription?.DeliveryStreamStatus).toBe('ACTIVE');
    expect(bucket.$metadata.httpStatusCode).toBe(200);
    expect(table.Table?.TableStatus).toBe('ACTIVE');
  });

  it('keeps messages and definitions when started again on the same directory, on the ports it is given', async () => {
    // Prepare
    const sqs = new SQSClient(standins!.clients.sqs);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: standins!.queueUrl('events'), MessageBody: 'survives' }),
    );
    await standins!.stop();
    const [sqsPort, firehosePort, s3Port, dynamodbPort] = await freePorts(4);
    const ports = { sqs: sqsPort!, firehose: firehosePort!, s3: s3Port!, dynamodb: dynamodbPort! };

    // Act
    standins = await startStandins({ ...options(dir), ports });
    const again = new SQSClient(standins.clients.sqs);
    const { Messages } = await again.send(
      new ReceiveMessageCommand({ QueueUrl: standins.queueUrl('events') }),
    );

    // Assess
    expect(standins.endpoints).toEqual({
      sqs: `http://127.0.0.1:${ports.sqs}`,
      firehose: `http://127.0.0.1:${ports.firehose}`,
      s3: `http://127.0.0.1:${ports.s3}`,
      dynamodb: `http://127.0.0.1:${ports.dynamodb}`,
    });
    expect(Messages?.map((m) => m.Body)).toEqual(['survives']);
  });

  it('gives an environment from which SDK clients find the stand-ins by themselves', async () => {
    // Prepare
    const saved = { ...process.env };
    Object.assign(process.env, standinEnvironment(standins!.endpoints));

    // Act
    let attributes: Record<string, string> | undefined;
    try {
      const fromEnvironment = new SQSClient({});
      attributes = (
        await fromEnvironment.send(
          new GetQueueAttributesCommand({
            QueueUrl: standins!.queueUrl('events'),
            AttributeNames: ['QueueArn'],
          }),
        )
      ).Attributes;
    } finally {
      process.env = saved;
    }

    // Assess
    expect(attributes?.QueueArn).toBe('arn:aws:sqs:us-east-1:000000000000:events');
  });

  it('stops every server, closing its port', async () => {
    // Prepare
    const endpoints = Object.values(standins!.endpoints);

    // Act
    await standins!.stop();
    standins = undefined;
    const attempts = await Promise.all(
      endpoints.map((endpoint) =>
        fetch(`${endpoint}/__faults`).then(
          () => 'answered',
          () => 'refused',
        ),
      ),
    );

    // Assess
    expect(attempts).toEqual(['refused', 'refused', 'refused', 'refused']);
  });
});
