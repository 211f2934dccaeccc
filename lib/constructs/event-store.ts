/**
 * The event store: Aurora PostgreSQL Serverless v2 behind RDS Proxy, in isolated subnets.
 *
 * Authentication: the writer and summary functions log in to the proxy with IAM tokens, and the proxy
 * logs in to the database with IAM too (end-to-end IAM, `DefaultAuthScheme: IAM_AUTH`), so the
 * per-function roles (`firehose_writer`, `firehose_reader`, created with `rds_iam` by migration 0002)
 * have no password anywhere. Migrations and partition maintenance are the only clients that connect
 * to the cluster directly, as the master user, whose password RDS keeps and rotates in Secrets Manager.
 *
 * Network: the proxy is reachable only from `proxyClientSecurityGroup`, the cluster only from the
 * proxy and from `adminClientSecurityGroup`.
 */
import { ArnFormat, type Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DatabaseEndpoint } from '../config/function-environment';
import type { FirehoseFunctionProps } from './firehose-function';
import { grantSecretRead } from './grants';
import { removalPolicy, stageLogGroup } from './retention';

export const AURORA_ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_7;

/**
 * How a function logs in: through the proxy as one of the proxied roles (IAM token), or to the
 * cluster endpoint as the master user (password read from the secret at run time).
 */
export type DatabaseAccess = { readonly proxyUser: string } | 'master';

/** What a Lambda function needs to reach the database with one kind of access. */
export interface DatabaseClient {
  /** Placement in the VPC, the client security group and the RDS CA bundle: spread into the function's props. */
  readonly functionProps: Required<
    Pick<FirehoseFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups' | 'connectsToDatabase'>
  >;
  /** For the function's environment (lib/config/function-environment.ts). */
  readonly endpoint: DatabaseEndpoint;
  /** `rds-db:connect` as the proxy user, or reading the master secret. */
  grant(grantee: iam.IGrantable): void;
}

export interface EventStoreProps {
  /** Where the cluster, the proxy and their client functions run. */
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly encryptionKey: kms.IKey;
  /** Also the prefix of its log group: `/aws/rds/cluster/<id>/postgresql`. */
  readonly clusterIdentifier: string;
  readonly databaseName: string;
  readonly port: number;
  readonly masterUsername: string;
  /** Database roles allowed through the proxy (with rds_iam). */
  readonly proxyUsers: readonly string[];
  readonly minCapacityAcu: number;
  readonly maxCapacityAcu: number;
  readonly readerInstances: number;
  readonly proxyMaxConnectionsPercent: number;
  /** How long a client waits for a pooled connection; keep it well under the clients' timeouts. */
  readonly proxyBorrowTimeout: Duration;
  readonly backupRetention: Duration;
  readonly logRetentionDays: number;
  /** prod: RETAIN and deletion protection. */
  readonly retain: boolean;
}

export class EventStore extends Construct {
  public readonly cluster: rds.DatabaseCluster;
  public readonly proxy: rds.DatabaseProxy;
  public readonly proxyRole: iam.Role;
  /** The master user's secret (`username`, `password`), managed and rotated by RDS. */
  public readonly masterSecret: secretsmanager.ISecret;
  public readonly clusterSecurityGroup: ec2.SecurityGroup;
  public readonly proxySecurityGroup: ec2.SecurityGroup;
  /** For the writer and summary functions: may reach the proxy only. */
  public readonly proxyClientSecurityGroup: ec2.SecurityGroup;
  /** For migrations and maintenance: may reach the cluster endpoint only. */
  public readonly adminClientSecurityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly databaseName: string;
  public readonly port: number;
  public readonly masterUsername: string;
  private readonly vpc: ec2.IVpc;
  private readonly subnets: ec2.SubnetSelection;
  private readonly proxyUsers: readonly string[];

  constructor(scope: Construct, id: string, props: EventStoreProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.subnets = props.subnets;
    this.databaseName = props.databaseName;
    this.port = props.port;
    this.masterUsername = props.masterUsername;
    this.proxyUsers = props.proxyUsers;
    const { vpc } = props;
    const postgres = ec2.Port.tcp(props.port);
    const https = ec2.Port.tcp(443);

    this.clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc,
      description: 'Aurora: PostgreSQL from the proxy and the admin clients only',
      allowAllOutbound: false,
    });
    this.proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc,
      description: 'RDS Proxy: PostgreSQL from the proxy clients only',
      allowAllOutbound: false,
    });
    this.proxyClientSecurityGroup = new ec2.SecurityGroup(this, 'ProxyClientSecurityGroup', {
      vpc,
      description: 'Writer and summary functions: the proxy, and DynamoDB over HTTPS',
      allowAllOutbound: false,
    });
    this.adminClientSecurityGroup = new ec2.SecurityGroup(this, 'AdminClientSecurityGroup', {
      vpc,
      description: 'Migrations and maintenance: the cluster endpoint, and Secrets Manager',
      allowAllOutbound: false,
    });
    // Proxy -> cluster rules are added by the proxy target itself.
    this.proxySecurityGroup.addIngressRule(this.proxyClientSecurityGroup, postgres, 'proxy clients');
    this.proxyClientSecurityGroup.addEgressRule(this.proxySecurityGroup, postgres, 'to RDS Proxy');
    // DynamoDB's gateway endpoint is a route to a prefix list CloudFormation cannot name; the subnets
    // have no route out of the VPC, so 443 reaches nothing else.
    this.proxyClientSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), https, 'DynamoDB gateway endpoint');
    this.clusterSecurityGroup.addIngressRule(
      this.adminClientSecurityGroup,
      postgres,
      'migrations, maintenance',
    );
    this.adminClientSecurityGroup.addEgressRule(this.clusterSecurityGroup, postgres, 'to the cluster');

    // The name RDS exports the cluster's logs to: created here for its retention and removal policy.
    this.logGroup = stageLogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/cluster/${props.clusterIdentifier}/postgresql`,
      logRetentionDays: props.logRetentionDays,
      retain: props.retain,
    });

    const readers = Array.from({ length: props.readerInstances }, (_, i) =>
      // Same capacity as the writer, so a failover does not land on a scaled-down instance.
      rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, {
        scaleWithWriter: true,
        publiclyAccessible: false,
      }),
    );
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: AURORA_ENGINE_VERSION }),
      clusterIdentifier: props.clusterIdentifier,
      writer: rds.ClusterInstance.serverlessV2('Writer', { publiclyAccessible: false }),
      readers,
      serverlessV2MinCapacity: props.minCapacityAcu,
      serverlessV2MaxCapacity: props.maxCapacityAcu,
      vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.clusterSecurityGroup],
      port: props.port,
      defaultDatabaseName: props.databaseName,
      credentials: rds.Credentials.fromUsername(props.masterUsername, { encryptionKey: props.encryptionKey }),
      // RDS generates, stores and rotates the master password; no rotation Lambda to run.
      manageMasterUserPassword: true,
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      iamAuthentication: true,
      // Clients must use TLS (the proxy requires it too).
      parameters: { 'rds.force_ssl': '1' },
      cloudwatchLogsExports: ['postgresql'],
      backup: { retention: props.backupRetention },
      copyTagsToSnapshot: true,
      deletionProtection: props.retain,
      removalPolicy: removalPolicy(props.retain),
    });
    this.cluster.node.addDependency(this.logGroup);
    this.masterSecret = this.cluster.secret!;

    Validations.of(this.cluster.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The cluster sits in isolated subnets and accepts connections only from the proxy and admin ' +
        'security groups; a non-default port would add no protection and confuse PostgreSQL tooling.',
    });
    if (!props.retain) {
      Validations.of(this.cluster.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'Deletion protection is on in prod (retainData); dev and staging clusters are disposable.',
      });
    }

    // The proxy's own role logs in to the database as each proxied user (end-to-end IAM).
    const stack = Stack.of(this);
    this.proxyRole = new iam.Role(this, 'ProxyRole', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      description: 'RDS Proxy: IAM authentication to the database as the proxied users',
    });
    this.proxyRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['rds-db:connect'],
        resources: props.proxyUsers.map((user) =>
          stack.formatArn({
            service: 'rds-db',
            resource: 'dbuser',
            resourceName: `${this.cluster.clusterResourceIdentifier}/${user}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromCluster(this.cluster),
      vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.proxySecurityGroup],
      role: this.proxyRole,
      // End-to-end IAM: clients present IAM tokens and the proxy uses IAM to the database as well.
      defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
      requireTLS: true,
      maxConnectionsPercent: props.proxyMaxConnectionsPercent,
      maxIdleConnectionsPercent: Math.min(50, props.proxyMaxConnectionsPercent),
      borrowTimeout: props.proxyBorrowTimeout,
    });
  }

  /**
   * A database client function's placement, endpoint and grant: through the proxy as `proxyUser`
   * (the writer, the summary), or to the cluster as the master user (migrations, maintenance).
   */
  public client(access: DatabaseAccess): DatabaseClient {
    const region = Stack.of(this).region;
    const placement = { vpc: this.vpc, vpcSubnets: this.subnets, connectsToDatabase: true };
    if (access === 'master') {
      return {
        functionProps: { ...placement, securityGroups: [this.adminClientSecurityGroup] },
        endpoint: {
          kind: 'secret',
          host: this.cluster.clusterEndpoint.hostname,
          port: this.port,
          database: this.databaseName,
          user: this.masterUsername,
          region,
          secretArn: this.masterSecret.secretArn,
        },
        grant: (grantee) => grantSecretRead(grantee, this.masterSecret),
      };
    }
    const user = access.proxyUser;
    if (!this.proxyUsers.includes(user)) {
      throw new Error(`${user} is not a proxied database user (${this.proxyUsers.join(', ')})`);
    }
    return {
      functionProps: { ...placement, securityGroups: [this.proxyClientSecurityGroup] },
      endpoint: {
        kind: 'iam',
        host: this.proxy.endpoint,
        port: this.port,
        database: this.databaseName,
        user,
        region,
      },
      grant: (grantee) => {
        this.proxy.grantConnect(grantee, user);
      },
    };
  }
}
