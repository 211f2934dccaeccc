/**
 * Applies the SQL migrations on every deploy that changes them, before anything that needs the new
 * schema: a CDK Trigger invokes the migrate function (synchronously; a failed migration fails the
 * deploy) and the constructs given to `runBefore` (the writer's event source mapping, the writer and
 * summary functions) are created or updated only after it succeeded.
 *
 * The migration files travel inside the function's bundle (`./migrations/` next to index.mjs), so
 * a changed migration changes the bundle hash, hence the function version, hence re-runs the Trigger.
 */
import { Duration } from 'aws-cdk-lib';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import { adminFunction } from './admin-function';
import type { EventStore } from './event-store';
import type { FirehoseFunction } from './firehose-function';

export const MIGRATIONS_SOURCE_DIR = 'lambdas/adapters/postgres/migrations';
export const MIGRATIONS_BUNDLE_DIR = 'migrations';
export const MIGRATE_TIMEOUT = Duration.minutes(5);

export interface SchemaMigrationsProps {
  readonly config: StageConfig;
  readonly eventStore: EventStore;
}

export class SchemaMigrations extends Construct {
  public readonly migrateFunction: FirehoseFunction;
  public readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: SchemaMigrationsProps) {
    super(scope, id);
    const { config, eventStore } = props;

    this.migrateFunction = adminFunction(this, 'MigrateFunction', {
      handlerName: 'migrate',
      config,
      eventStore,
      description: 'Applies the SQL migrations as the master user (run on deploy by a CDK Trigger)',
      timeout: MIGRATE_TIMEOUT,
      bundleDirectories: [{ source: MIGRATIONS_SOURCE_DIR, target: MIGRATIONS_BUNDLE_DIR }],
    });

    this.trigger = new triggers.Trigger(this, 'RunMigrations', {
      handler: this.migrateFunction,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: MIGRATE_TIMEOUT.plus(Duration.seconds(30)),
      executeOnHandlerChange: true,
    });
    // The whole function (its log group and policies included) exists before the first run.
    this.trigger.executeAfter(this.migrateFunction);
  }

  /** What must wait for the migrations of this deploy. */
  public runBefore(...scopes: Construct[]): void {
    this.trigger.executeBefore(...scopes);
  }
}
