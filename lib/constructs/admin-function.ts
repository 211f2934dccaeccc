/**
 * The functions that connect to the cluster directly as the master user: migrations, partition
 * maintenance and erasure. Same sizing, environment, placement and grants; they differ in what
 * starts them.
 */
import type { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { maintenanceEnvironment } from '../config/function-environment';
import type { StageConfig } from '../config/stage-config';
import type { EventStore } from './event-store';
import { type BundledDirectory, FirehoseFunction } from './firehose-function';

export interface AdminFunctionProps {
  readonly handlerName: 'migrate' | 'partition-maintenance' | 'erasure';
  readonly config: StageConfig;
  readonly eventStore: EventStore;
  readonly description: string;
  readonly timeout: Duration;
  readonly bundleDirectories?: readonly BundledDirectory[];
}

/** A master-user function in the VPC that may read the master secret, one invocation at a time. */
export function adminFunction(scope: Construct, id: string, props: AdminFunctionProps): FirehoseFunction {
  const { config, eventStore, ...rest } = props;
  const database = eventStore.client('master');
  const fn = new FirehoseFunction(scope, id, {
    ...rest,
    config,
    environment: maintenanceEnvironment(config, database.endpoint),
    memorySize: 512,
    // Migrations take an advisory lock, maintenance runs are idempotent sweeps and erasures are rare
    // operator requests: one at a time is the only sensible concurrency, and it bounds the direct
    // connections (design promise 5).
    reservedConcurrentExecutions: 1,
    ...database.functionProps,
  });
  database.grant(fn);
  return fn;
}
