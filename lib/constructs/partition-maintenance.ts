/**
 * Creates day partitions ahead and drops the expired ones, on an EventBridge schedule. It runs as the
 * master user (DDL on the partitioned tables) straight against the cluster endpoint; every run is
 * idempotent, so a missed or repeated run is harmless (the writer also creates a missing partition).
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { maintenanceEnvironment } from '../config/function-environment';
import type { StageConfig } from '../config/stage-config';
import type { EventStore } from './event-store';
import { FirehoseFunction } from './firehose-function';
import { grantSecretRead } from './grants';

export interface PartitionMaintenanceProps {
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly eventStore: EventStore;
}

export class PartitionMaintenance extends Construct {
  public readonly maintenanceFunction: FirehoseFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: PartitionMaintenanceProps) {
    super(scope, id);
    const { config, eventStore } = props;

    this.maintenanceFunction = new FirehoseFunction(this, 'MaintenanceFunction', {
      handlerName: 'partition-maintenance',
      config,
      description: 'Creates event partitions ahead and drops those past retention',
      environment: maintenanceEnvironment(config, eventStore.masterEndpoint()),
      timeout: Duration.minutes(5),
      memorySize: 512,
      reservedConcurrentExecutions: 1,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [eventStore.adminClientSecurityGroup],
      connectsToDatabase: true,
    });
    grantSecretRead(this.maintenanceFunction, eventStore.masterSecret);

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
