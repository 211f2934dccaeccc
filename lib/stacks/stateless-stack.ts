/**
 * The code and its entry points: the API (authorizer, ingest, summary), the writer and its event
 * source mapping, migrations run on deploy, partition maintenance, and the optional WAF. Deleting and
 * recreating this stack loses no data.
 */
import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SERVICE_OUTPUTS } from '../config/stack-outputs';
import type { StageConfig } from '../config/stage-config';
import { ApiFirewall, RATE_WINDOW_SECONDS } from '../constructs/api-firewall';
import { DataErasure } from '../constructs/data-erasure';
import { EventWriter } from '../constructs/event-writer';
import { IngestApi } from '../constructs/ingest-api';
import { Observability } from '../constructs/observability/observability';
import { PartitionMaintenance } from '../constructs/partition-maintenance';
import { SchemaMigrations } from '../constructs/schema-migrations';
import { SUMMARY_METHOD_PATH, SummaryApi, summaryMethodOptions } from '../constructs/summary-api';
import { addStackOutputs } from './stack-outputs';
import type { StatefulStack } from './stateful-stack';

export interface StatelessStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: Pick<StatefulStack, 'tables' | 'eventQueue' | 'archive' | 'eventStore'>;
}

export class StatelessStack extends Stack {
  public readonly ingestApi: IngestApi;
  public readonly summaryApi: SummaryApi;
  public readonly writer: EventWriter;
  public readonly migrations: SchemaMigrations;
  public readonly maintenance: PartitionMaintenance;
  public readonly erasure: DataErasure;
  public readonly firewall?: ApiFirewall;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const { tables, eventStore } = data;

    this.ingestApi = new IngestApi(this, 'IngestApi', {
      config,
      tenants: tables.tenants,
      rateLimits: tables.rateLimits,
      ledger: tables.ledger,
      queue: data.eventQueue.queue,
      archiveStream: data.archive.deliveryStream,
      methodOptions: { [SUMMARY_METHOD_PATH]: summaryMethodOptions(config.summary.reservedConcurrency) },
    });

    this.summaryApi = new SummaryApi(this, 'SummaryApi', {
      config,
      api: this.ingestApi,
      eventStore,
      summaryCache: tables.summaryCache,
      ledger: tables.ledger,
    });

    this.writer = new EventWriter(this, 'Writer', {
      config,
      queue: data.eventQueue.queue,
      ledger: tables.ledger,
      eventStore,
    });

    this.migrations = new SchemaMigrations(this, 'Migrations', { config, eventStore });
    // New code that reads or writes the database starts only once this deploy's migrations ran.
    this.migrations.runBefore(
      this.writer.eventSourceMapping,
      this.writer.writerFunction,
      this.summaryApi.summaryFunction,
    );

    this.maintenance = new PartitionMaintenance(this, 'PartitionMaintenance', { config, eventStore });
    // The function too, not only its schedule: maintenance code from before a migration (0004's
    // retention floor) must not drop days after it.
    this.migrations.runBefore(this.maintenance.schedule, this.maintenance.maintenanceFunction);

    // Tenant deletion and user erasure (the ops CLI invokes it by its deployed name).
    this.erasure = new DataErasure(this, 'DataErasure', { config, eventStore });
    this.migrations.runBefore(this.erasure.erasureFunction);

    if (config.wafEnabled) {
      this.firewall = new ApiFirewall(this, 'Firewall', {
        stageArn: this.ingestApi.api.deploymentStage.stageArn,
        // The largest tier's request rate over WAF's window: no single client IP of a legitimate
        // account needs more; the per-account limiter does the fine-grained work.
        requestsPerIpPerWindow:
          Math.max(...Object.values(config.tiers).map((t) => t.requestsPerSecond)) * RATE_WINDOW_SECONDS,
        namePrefix: `firehose-${config.stage}`,
      });
    } else {
      Validations.of(this.ingestApi.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason: 'WAF is on where wafEnabled is set (staging, prod); this stage saves its cost.',
      });
    }

    // SLO and operational alarms, the alarm topic and the dashboard (docs/slo.md).
    this.observability = new Observability(this, 'Observability', {
      config,
      ingestApi: this.ingestApi,
      summaryApi: this.summaryApi,
      writer: this.writer,
      eventQueue: data.eventQueue,
      archive: data.archive,
      eventStore,
      tables,
      maintenance: this.maintenance,
    });

    addStackOutputs(this, SERVICE_OUTPUTS, {
      apiUrl: { value: this.ingestApi.api.url, description: 'API base URL (ends in /v1/)' },
      writerFunction: { value: this.writer.writerFunction.functionName, description: 'Writer function name' },
      migrateFunction: {
        value: this.migrations.migrateFunction.functionName,
        description: 'Migrate function name (invoke to re-run migrations)',
      },
    });
  }
}
