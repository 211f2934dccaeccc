/**
 * Secure by default: encryption at rest and in transit everywhere, nothing public, functions placed
 * in or out of the VPC by what they reach, and least-privilege roles.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../lambdas/shared/function-names';
import { READER_DB_USER, WRITER_DB_USER } from '../../lib/config/database';
import { type SynthesizedStage, stageTemplates } from './support/synth';
import {
  actionsOf,
  functionOf,
  mentions,
  resources,
  roleStatements,
  type Statement,
  statementsAllowing,
} from './support/template-queries';

const IN_VPC: readonly FunctionName[] = ['writer', 'summary', 'migrate', 'partition-maintenance', 'erasure'];
const OUTSIDE_VPC: readonly FunctionName[] = ['ingest', 'authorizer'];

describe.each(['dev', 'prod'] as const)('stage %s: security', (name) => {
  let s: SynthesizedStage;
  beforeAll(() => {
    s = stageTemplates(name);
  });

  const statementsOf = (handler: FunctionName): Statement[] =>
    roleStatements(s.service, functionOf(s.service, handler)[1]);
  const logicalIdOf = (type: string, pathFragment: string): string => {
    const found = resources(s.data, type).filter(([id]) => id.includes(pathFragment));
    if (found.length !== 1) throw new Error(`Expected one ${type} matching ${pathFragment}`);
    return found[0]![0];
  };

  describe('encryption at rest', () => {
    it('encrypts both queues with the customer managed queue key', () => {
      const queueKey = logicalIdOf('AWS::KMS::Key', 'QueueKey');
      for (const [id, queue] of resources(s.data, 'AWS::SQS::Queue')) {
        expect(queue.Properties?.KmsMasterKeyId, id).toEqual({ 'Fn::GetAtt': [queueKey, 'Arn'] });
      }
    });

    it('encrypts the archive with the data key (SSE-KMS) and its access logs with SSE-S3', () => {
      const dataKey = logicalIdOf('AWS::KMS::Key', 'DataKey');
      s.data.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [dataKey, 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
      });
      for (const [id, bucket] of resources(s.data, 'AWS::S3::Bucket')) {
        expect(bucket.Properties?.BucketEncryption, id).toBeDefined();
      }
    });

    it('encrypts every DynamoDB table', () => {
      const tables = resources(s.data, 'AWS::DynamoDB::Table');
      expect(tables).toHaveLength(4);
      for (const [id, table] of tables) {
        expect(table.Properties?.SSESpecification, id).toEqual({ SSEEnabled: true });
      }
    });

    it("encrypts Aurora's storage and the master secret with the data key", () => {
      const dataKey = logicalIdOf('AWS::KMS::Key', 'DataKey');
      s.data.hasResourceProperties('AWS::RDS::DBCluster', {
        StorageEncrypted: true,
        KmsKeyId: { 'Fn::GetAtt': [dataKey, 'Arn'] },
        ManageMasterUserPassword: true,
        MasterUserSecret: { KmsKeyId: { 'Fn::GetAtt': [dataKey, 'Arn'] } },
      });
    });

    it("encrypts the Firehose stream's buffer and its deliveries with the data key", () => {
      const dataKey = logicalIdOf('AWS::KMS::Key', 'DataKey');
      s.data.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
        DeliveryStreamType: 'DirectPut',
        DeliveryStreamEncryptionConfigurationInput: {
          KeyType: 'CUSTOMER_MANAGED_CMK',
          KeyARN: { 'Fn::GetAtt': [dataKey, 'Arn'] },
        },
        ExtendedS3DestinationConfiguration: Match.objectLike({
          EncryptionConfiguration: {
            KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [dataKey, 'Arn'] } },
          },
        }),
      });
    });

    it('rotates the customer managed keys', () => {
      const keys = resources(s.data, 'AWS::KMS::Key');
      expect(keys).toHaveLength(2);
      for (const [id, key] of keys) expect(key.Properties?.EnableKeyRotation, id).toBe(true);
    });
  });

  describe('encryption in transit', () => {
    it('denies non-TLS access to both queues and both buckets', () => {
      const denyInsecure = Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]);
      for (const type of ['AWS::SQS::QueuePolicy', 'AWS::S3::BucketPolicy']) {
        const policies = resources(s.data, type);
        expect(policies, type).toHaveLength(2);
        s.data.allResourcesProperties(type, { PolicyDocument: { Statement: denyInsecure } });
      }
    });

    it('requires TLS at RDS Proxy and at the cluster', () => {
      s.data.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, DefaultAuthScheme: 'IAM_AUTH' });
      s.data.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
        Parameters: { 'rds.force_ssl': '1' },
      });
    });
  });

  describe('no public access', () => {
    it('blocks all public access to both buckets', () => {
      s.data.allResourcesProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
    });

    it('builds a VPC with no route to the internet', () => {
      s.data.resourceCountIs('AWS::EC2::InternetGateway', 0);
      s.data.resourceCountIs('AWS::EC2::NatGateway', 0);
      s.data.resourceCountIs('AWS::EC2::Route', 0);
      s.data.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    });

    it('keeps database instances private and IAM-authenticated', () => {
      s.data.allResourcesProperties('AWS::RDS::DBInstance', { PubliclyAccessible: false });
      s.data.hasResourceProperties('AWS::RDS::DBCluster', { EnableIAMDatabaseAuthentication: true });
    });

    it('opens no security group to the internet', () => {
      for (const [id, group] of resources(s.data, 'AWS::EC2::SecurityGroup')) {
        const ingress = (group.Properties?.SecurityGroupIngress ?? []) as Array<Record<string, unknown>>;
        expect(
          ingress.filter((rule) => rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0'),
          id,
        ).toEqual([]);
      }
      for (const [id, rule] of resources(s.data, 'AWS::EC2::SecurityGroupIngress')) {
        expect(rule.Properties?.CidrIp, id).toBeUndefined();
      }
    });

    it('lets only proxy clients reach the proxy and only the proxy and admin clients reach the cluster', () => {
      const proxySg = logicalIdOf('AWS::EC2::SecurityGroup', 'EventStoreProxySecurityGroup');
      const clusterSg = logicalIdOf('AWS::EC2::SecurityGroup', 'EventStoreClusterSecurityGroup');
      const sources = (target: string) =>
        resources(s.data, 'AWS::EC2::SecurityGroupIngress')
          .filter(([, r]) => mentions(r.Properties?.GroupId, target))
          .map(
            ([, r]) => (r.Properties!.SourceSecurityGroupId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0],
          );
      expect(new Set(sources(proxySg))).toEqual(
        new Set([logicalIdOf('AWS::EC2::SecurityGroup', 'ProxyClient')]),
      );
      expect(new Set(sources(clusterSg))).toEqual(
        new Set([proxySg, logicalIdOf('AWS::EC2::SecurityGroup', 'AdminClient')]),
      );
    });
  });

  describe('function placement', () => {
    it.each(OUTSIDE_VPC)('runs %s outside the VPC (fast cold starts, no database reach)', (handler) => {
      const [, fn] = functionOf(s.service, handler);
      expect(fn.Properties?.VpcConfig).toBeUndefined();
    });

    it.each(IN_VPC)('runs %s inside the VPC', (handler) => {
      const [, fn] = functionOf(s.service, handler);
      const vpcConfig = fn.Properties?.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
      expect(vpcConfig.SubnetIds).toHaveLength(2);
      expect(vpcConfig.SecurityGroupIds).toHaveLength(1);
    });

    it('gives proxy clients and admin clients different security groups', () => {
      const sg = (handler: FunctionName) =>
        JSON.stringify(
          (functionOf(s.service, handler)[1].Properties!.VpcConfig as { SecurityGroupIds: unknown[] })
            .SecurityGroupIds,
        );
      expect(sg('writer')).toBe(sg('summary'));
      expect(sg('migrate')).toBe(sg('partition-maintenance'));
      expect(sg('erasure')).toBe(sg('migrate'));
      expect(sg('writer')).not.toBe(sg('migrate'));
    });
  });

  describe('least privilege', () => {
    it('never grants a bare * action or a service-wide wildcard to a function', () => {
      for (const handler of [...IN_VPC, ...OUTSIDE_VPC]) {
        for (const action of actionsOf(statementsOf(handler))) {
          expect(action, handler).not.toBe('*');
          expect(action, handler).not.toMatch(/:\*$/);
        }
      }
    });

    it('keeps the ingest role away from Aurora and the tenants table', () => {
      const statements = statementsOf('ingest');
      expect(statementsAllowing(statements, 'rds-db:connect')).toEqual([]);
      const tenants = logicalIdOf('AWS::DynamoDB::Table', 'Tenants');
      expect(statements.filter((st) => mentions(st.Resource, tenants))).toEqual([]);
    });

    it('lets ingest only put record batches to Firehose and send to the queue', () => {
      const statements = statementsOf('ingest');
      const firehoseActions = [...actionsOf(statements)].filter((a) => a.startsWith('firehose:'));
      expect(firehoseActions).toEqual(['firehose:PutRecordBatch']);
      const sqsActions = [...actionsOf(statements)].filter((a) => a.startsWith('sqs:'));
      expect(sqsActions).toEqual(['sqs:SendMessage']);
    });

    it('does not let the summary role send to the queue or write events', () => {
      const statements = statementsOf('summary');
      expect(statementsAllowing(statements, 'sqs:SendMessage')).toEqual([]);
      expect(statementsAllowing(statements, 'firehose:PutRecordBatch')).toEqual([]);
      expect(
        statementsAllowing(statements, 'dynamodb:PutItem').filter((st) => mentions(st.Resource, 'Ledger')),
      ).toEqual([]);
    });

    it.each([
      ['writer', WRITER_DB_USER, READER_DB_USER],
      ['summary', READER_DB_USER, WRITER_DB_USER],
    ] as const)('lets %s connect through the proxy as its own database user only', (handler, own, other) => {
      const connect = statementsAllowing(statementsOf(handler), 'rds-db:connect');
      expect(connect).toHaveLength(1);
      expect(mentions(connect[0]!.Resource, `/${own}`)).toBe(true);
      expect(mentions(connect[0]!.Resource, `/${other}`)).toBe(false);
      expect(mentions(connect[0]!.Resource, 'dbuser:')).toBe(true);
    });

    it.each(['migrate', 'partition-maintenance', 'erasure'] as const)(
      'lets %s read the master secret but not connect through the proxy',
      (handler) => {
        const statements = statementsOf(handler);
        expect(statementsAllowing(statements, 'secretsmanager:GetSecretValue')).toHaveLength(1);
        expect(statementsAllowing(statements, 'rds-db:connect')).toEqual([]);
        const decrypt = statementsAllowing(statements, 'kms:Decrypt');
        expect(decrypt).toHaveLength(1);
        expect(mentions(decrypt[0]!.Condition, 'kms:ViaService')).toBe(true);
      },
    );

    it.each([
      ['ingest', 'RateLimits', ['dynamodb:GetItem', 'dynamodb:UpdateItem']],
      ['ingest', 'Ledger', ['dynamodb:PutItem', 'dynamodb:UpdateItem']],
      ['writer', 'Ledger', ['dynamodb:BatchWriteItem']],
      ['summary', 'SummaryCache', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']],
      ['summary', 'Ledger', ['dynamodb:Query']],
    ] as const)('lets %s use the %s table only as its adapter does', (handler, table, actions) => {
      const onTable = statementsOf(handler).filter((st) =>
        mentions(st.Resource, logicalIdOf('AWS::DynamoDB::Table', table)),
      );
      expect(new Set(onTable.flatMap((st) => st.Action))).toEqual(new Set(actions));
    });

    it("lets the summary query only the ledger's pending index, not the table itself", () => {
      const query = statementsAllowing(statementsOf('summary'), 'dynamodb:Query');
      expect(query).toHaveLength(1);
      expect(JSON.stringify(query[0]!.Resource)).toContain('/index/pending');
    });

    it('grants the authorizer only key lookups and last-used updates on the tenants table', () => {
      const statements = statementsOf('authorizer');
      const dynamo = statements.filter((st) => st.Action.some((a) => a.startsWith('dynamodb:')));
      expect(dynamo).toHaveLength(1);
      expect(new Set(dynamo[0]!.Action)).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
      expect(mentions(dynamo[0]!.Resource, logicalIdOf('AWS::DynamoDB::Table', 'Tenants'))).toBe(true);
    });

    it("lets the proxy's own role log in to the database (cluster resource id) as the two function users only", () => {
      const proxyRole = logicalIdOf('AWS::IAM::Role', 'ProxyRole');
      const policies = resources(s.data, 'AWS::IAM::Policy').filter(([, p]) =>
        mentions(p.Properties?.Roles, proxyRole),
      );
      const statements = policies.flatMap(
        ([, p]) => (p.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]!.Action).toBe('rds-db:connect');
      const users = (statements[0]!.Resource as unknown[]).map((arn) => {
        expect(mentions(arn, 'DBClusterResourceId')).toBe(true);
        return JSON.stringify(arn).match(/\/(firehose_\w+)"/)?.[1];
      });
      expect(new Set(users)).toEqual(new Set([WRITER_DB_USER, READER_DB_USER]));
    });
  });
});
