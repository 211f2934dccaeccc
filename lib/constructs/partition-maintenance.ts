/**
 * Creates day partitions ahead and drops the expired ones, on an EventBridge schedule. It runs as the
 * master user (DDL on the partitioned tables) straight against the cluster endpoint; every run is
 * idempotent, so a missed or repeated run is harmless (the writer also creates a missing partition).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import { adminFunction } from './admin-function';
import type { EventStore } from './event-store';
import type { FirehoseFunction } from './firehose-function';

export interface PartitionMaintenanceProps {
  readonly config: StageConfig;
  readonly eventStore: EventStore;
}

export class PartitionMaintenance extends Construct {
  public readonly maintenanceFunction: FirehoseFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: PartitionMaintenanceProps) {
    super(scope, id);
    const { config, eventStore } = props;

    this.maintenanceFunction = adminFunction(this, 'MaintenanceFunction', {
      handlerName: 'partition-maintenance',
      config,
      eventStore,
      description: 'Creates event partitions ahead and drops those past retention',
      timeout: Duration.minutes(5),
    });
    // The next scheduled run is the retry. Lambda's own two async retries would turn one failed run
    // into three errors, and the missed-runs alarm counts runs.
    this.maintenanceFunction.configureAsyncInvoke({ retryAttempts: 0 });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Partition maintenance',
      schedule: events.Schedule.rate(Duration.minutes(config.partitions.maintenanceIntervalMinutes)),
      targets: [
        new targets.LambdaFunction(this.maintenanceFunction, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(config.partitions.maintenanceIntervalMinutes),
        }),
      ],
    });
  }
}
