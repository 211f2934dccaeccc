/**
 * An OpsTarget for unit tests of one ops command: AWS clients are real (scripted with
 * aws-sdk-client-mock by the test), and anything the command under test should not touch throws.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { OpsTarget } from '../../ops/target';

function untouched(name: string): never {
  return new Proxy({} as never, {
    get(_target, property) {
      throw new Error(`the command under test used ${name}.${String(property)}`);
    },
  });
}

export function scriptedTarget(overrides: Partial<OpsTarget> = {}): OpsTarget {
  return {
    stage: 'dev',
    apiUrl: () => Promise.reject(new Error('this test calls no API')),
    tenants: untouched('tenants'),
    ledger: untouched('ledger'),
    summaryCache: untouched('summaryCache'),
    eraser: untouched('eraser'),
    archive: () => untouched('archive'),
    dlqRetentionDays: 14,
    sqs: new SQSClient({ region: 'us-east-1' }),
    queues: {
      events: 'http://sqs/events',
      deadLetter: 'http://sqs/dlq',
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    },
    ...overrides,
  };
}

/** An archive location whose S3 client the test scripts (aws-sdk-client-mock), bucket `archive`. */
export function scriptedArchive() {
  return { s3: new S3Client({ region: 'us-east-1' }), bucket: 'archive' };
}
