/**
 * The database side of tenant deletion and user erasure (design promise 8): a master-user function
 * in the VPC that only the operator invokes (`npm run ops -- tenants delete` / `users erase`, which
 * also clear DynamoDB, the summary cache and the S3 archive). No trigger: nothing else calls it.
 */
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import { adminFunction } from './admin-function';
import type { EventStore } from './event-store';
import type { FirehoseFunction } from './firehose-function';

export interface DataErasureProps {
  readonly config: StageConfig;
  readonly eventStore: EventStore;
}

export class DataErasure extends Construct {
  public readonly erasureFunction: FirehoseFunction;

  constructor(scope: Construct, id: string, props: DataErasureProps) {
    super(scope, id);
    this.erasureFunction = adminFunction(this, 'ErasureFunction', {
      handlerName: 'erasure',
      config: props.config,
      eventStore: props.eventStore,
      description: "Removes a deleted tenant's rows, or a user's events and their rollup share",
      // Deleting a large tenant's rows takes a while; the operator's invocation waits for it.
      timeout: Duration.minutes(15),
    });
  }
}
