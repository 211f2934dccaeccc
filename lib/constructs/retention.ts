/**
 * What a stage keeps when a resource is deleted or replaced (stage config `retainData`), and the log
 * groups every construct creates with the stage's retention.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Data resources: kept on stack deletion and on replacement where the stage retains data (prod). */
export function removalPolicy(retain: boolean): RemovalPolicy {
  return retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/**
 * Log groups: kept on stack deletion and replacement like data, but deleted when the stack's first
 * creation fails and rolls back (`DeletionPolicy: RetainExceptOnCreate`). A named group kept by that
 * rollback would make the retry fail with "already exists".
 */
export function logGroupRemovalPolicy(retain: boolean): RemovalPolicy {
  return retain ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
}

/** CloudWatch Logs accepts only certain retention periods: the smallest one holding `days`. */
export function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((value): value is logs.RetentionDays => typeof value === 'number' && value > 0)
    .sort((a, b) => a - b);
  const match = allowed.find((value) => value >= days);
  if (match === undefined) throw new Error(`No CloudWatch Logs retention holds ${days} days`);
  return match;
}

export interface StageLogGroupProps {
  /** Stage config `observability.logRetentionDays`. */
  readonly logRetentionDays: number;
  /** Stage config `retainData`. */
  readonly retain: boolean;
  /** Only where the writer of the logs expects a fixed name (e.g. RDS); generated otherwise. */
  readonly logGroupName?: string;
}

/** A log group with the stage's retention and removal policy. */
export function stageLogGroup(scope: Construct, id: string, props: StageLogGroupProps): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    ...(props.logGroupName ? { logGroupName: props.logGroupName } : {}),
    retention: retentionDays(props.logRetentionDays),
    removalPolicy: logGroupRemovalPolicy(props.retain),
  });
}
