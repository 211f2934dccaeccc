/**
 * Customer managed KMS keys, one per blast radius: queue messages (read by producers and the
 * writer) and data at rest (archive, Firehose buffer, Aurora storage, the master user's secret).
 */
import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { removalPolicy } from './retention';

export interface EncryptionKeysProps {
  /** Prefix of the key aliases, e.g. `firehose-dev`. */
  readonly aliasPrefix: string;
  /** prod keeps keys (and so the data they protect) when the stack is deleted. */
  readonly retain: boolean;
}

export class EncryptionKeys extends Construct {
  public readonly queueKey: kms.Key;
  public readonly dataKey: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionKeysProps) {
    super(scope, id);
    const common: kms.KeyProps = {
      enableKeyRotation: true,
      // A deleted key makes everything encrypted with it unreadable: wait the longest in prod.
      pendingWindow: Duration.days(props.retain ? 30 : 7),
      removalPolicy: removalPolicy(props.retain),
    };
    this.queueKey = new kms.Key(this, 'QueueKey', {
      ...common,
      alias: `${props.aliasPrefix}/queue`,
      description: 'Encrypts the event queue and its dead-letter queue',
    });
    this.dataKey = new kms.Key(this, 'DataKey', {
      ...common,
      alias: `${props.aliasPrefix}/data`,
      description: 'Encrypts the event archive, its Firehose stream, Aurora storage and the master secret',
    });
  }
}
