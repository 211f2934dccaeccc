/**
 * The VPC of Aurora, RDS Proxy and the in-VPC functions (writer, summary, migrations, maintenance):
 * isolated subnets in two AZs, no internet or NAT gateway. The only AWS APIs those functions call go
 * through endpoints: DynamoDB (gateway endpoint, free) for the ledger and the summary cache, and
 * Secrets Manager (interface endpoint) for the master user's password. Nothing else is reachable.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { stageLogGroup } from './retention';

export interface NetworkProps {
  readonly logRetentionDays: number;
  readonly retain: boolean;
}

export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Where every in-VPC resource lives. */
  public readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  public readonly flowLogGroup: logs.LogGroup;
  public readonly dynamoDbEndpoint: ec2.GatewayVpcEndpoint;
  public readonly secretsManagerEndpoint: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.flowLogGroup = stageLogGroup(this, 'FlowLogs', props);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      // Aurora and RDS Proxy need subnets in at least two AZs.
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    this.dynamoDbEndpoint = this.vpc.addGatewayEndpoint('DynamoDb', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.subnets],
    });
    // Closed by default: callers are let in one security group at a time (allowHttpsFrom).
    this.secretsManagerEndpoint = this.vpc.addInterfaceEndpoint('SecretsManager', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets: this.subnets,
      privateDnsEnabled: true,
      open: false,
    });
  }

  /** Lets a security group's members call Secrets Manager through the interface endpoint. */
  public allowSecretsManagerFrom(peer: ec2.IConnectable): void {
    this.secretsManagerEndpoint.connections.allowDefaultPortFrom(peer, 'Secrets Manager clients');
  }
}
