/**
 * Least-privilege grants written on the function's side only. The L2 helpers (Key.grant*,
 * Queue.grantConsumeMessages, Secret.grantRead) also edit the resource's policy, which in the other
 * stack would make the stateful stack depend on the stateless one; the keys' default policy already
 * delegates to IAM in this account, so an identity policy is enough.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** Use of a KMS key, optionally only through one AWS service (e.g. `secretsmanager`). */
export function grantKeyUse(
  grantee: iam.IGrantable,
  key: kms.IKey,
  actions: readonly string[],
  viaService?: string,
): iam.Grant {
  const conditions = viaService
    ? { StringEquals: { 'kms:ViaService': `${viaService}.${Stack.of(key).region}.amazonaws.com` } }
    : undefined;
  return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [key.keyArn], conditions });
}

/** Sending to a queue: SendMessage (covers SendMessageBatch) and, if KMS-encrypted, its data keys. */
export function grantQueueSend(grantee: iam.IGrantable, queue: sqs.IQueue): void {
  queue.grant(grantee, 'sqs:SendMessage');
  if (queue.encryptionMasterKey)
    grantKeyUse(grantee, queue.encryptionMasterKey, ['kms:GenerateDataKey', 'kms:Decrypt']);
}

/** What a Lambda SQS event source mapping needs to poll, delete and extend messages. */
export function grantQueueConsume(grantee: iam.IGrantable, queue: sqs.IQueue): void {
  queue.grant(
    grantee,
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
  );
  if (queue.encryptionMasterKey) grantKeyUse(grantee, queue.encryptionMasterKey, ['kms:Decrypt']);
}

/** Reading a secret's value (and decrypting it through Secrets Manager only). */
export function grantSecretRead(grantee: iam.IGrantable, secret: secretsmanager.ISecret): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    resourceArns: [secret.secretArn],
  });
  if (secret.encryptionKey) grantKeyUse(grantee, secret.encryptionKey, ['kms:Decrypt'], 'secretsmanager');
}
