import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../packages/error-consumer/dashboard/request-queue.js";
import { ADMIN_API_THROTTLE } from "../lib/admin-api.js";
import {
  REDIS_ALARMS,
  REDIS_MAINTENANCE_WINDOW,
  REDIS_PARAMETER_FAMILY,
  REDIS_PORT,
  REDIS_SNAPSHOT_WINDOW,
} from "../lib/redis.js";
import { logicalId, resourcesOfType, synth } from "./synth.js";

// Prepare (shared): one synth of the default configuration for every test in this file.
// What the functions run in and on: network, Redis, buckets, the admin API, logs and alarms.
const { template } = synth();

const fnId = (name: string) => logicalId(template, "AWS::Lambda::Function", `${name}Function`);

type Props = Record<string, unknown>;
const alarmProps = () =>
  Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).map((a) => a.Properties! as Props);
/** The one alarm on `metric` whose dimensions mention `on` (a logical id). */
const alarmOn = (metric: string, on: string) => {
  const found = alarmProps().filter(
    (a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(on),
  );
  expect(found, `${metric} on ${on}`).toHaveLength(1);
  return found[0]!;
};

/** "HH:MM-HH:MM" or "ddd:HH:MM-ddd:HH:MM" as minutes of the week (a daily window on every day). */
function windowMinutes(window: string): Array<[number, number]> {
  const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
  const at = (part: string, day: number) => {
    const [h, m] = part.split(":").slice(-2).map(Number);
    return day * 1440 + h! * 60 + m!;
  };
  const [from, to] = window.split("-") as [string, string];
  if (/^[a-z]/.test(from)) {
    return [[at(from, days.indexOf(from.slice(0, 3))), at(to, days.indexOf(to.slice(0, 3)))]];
  }
  return days.map((_, day) => [at(from, day), at(to, day)]);
}

describe("network", () => {
  it("has isolated subnets only: no internet gateway, no NAT gateway", () => {
    // Assess
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
    template.resourceCountIs("AWS::EC2::InternetGateway", 0);
    template.resourceCountIs("AWS::EC2::EIP", 0);
    template.resourceCountIs("AWS::EC2::Subnet", 2);
    template.allResourcesProperties("AWS::EC2::Subnet", { MapPublicIpOnLaunch: false });
  });

  it("reaches S3 through a gateway endpoint and SNS and Secrets Manager through interface endpoints", () => {
    // Act
    const endpoints = Object.values(resourcesOfType(template, "AWS::EC2::VPCEndpoint")).map((e) => ({
      type: e.Properties?.VpcEndpointType,
      service: JSON.stringify(e.Properties?.ServiceName),
    }));

    // Assess
    expect(endpoints).toHaveLength(3);
    expect(endpoints).toContainEqual({ type: "Gateway", service: expect.stringContaining(".s3") });
    expect(endpoints).toContainEqual({ type: "Interface", service: expect.stringContaining(".sns") });
    expect(endpoints).toContainEqual({
      type: "Interface",
      service: expect.stringContaining(".secretsmanager"),
    });
    template.hasResourceProperties("AWS::EC2::FlowLog", { TrafficType: "REJECT" });
  });

  it("admits traffic only from the functions' security groups, never from an address range", () => {
    // Act
    const rules = Object.values(resourcesOfType(template, "AWS::EC2::SecurityGroupIngress")).map(
      (r) => r.Properties!,
    );
    const inline = Object.values(resourcesOfType(template, "AWS::EC2::SecurityGroup")).flatMap(
      (group) => (group.Properties?.SecurityGroupIngress as unknown[] | undefined) ?? [],
    );

    // Assess
    expect(rules).toHaveLength(3 * 4); // Redis and two interface endpoints, from each of four functions
    for (const rule of rules) expect(rule.SourceSecurityGroupId).toBeDefined();
    expect(inline).toEqual([]);
  });
});

describe("redis", () => {
  it("runs a replication group with TLS, encryption at rest and an AUTH token from Secrets Manager", () => {
    // Assess
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      Engine: "redis",
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      Port: REDIS_PORT,
      NumCacheClusters: 1,
      MultiAZEnabled: false,
      AuthToken: {
        "Fn::Join": [
          "",
          [
            "{{resolve:secretsmanager:",
            { Ref: logicalId(template, "AWS::SecretsManager::Secret", "RedisAuthToken") },
            ":SecretString:password::}}",
          ],
        ],
      },
    });
  });

  it("never evicts: a noeviction parameter group of the engine's family, used by the group", () => {
    // Prepare
    const parameters = logicalId(template, "AWS::ElastiCache::ParameterGroup", "RedisParameters");

    // Assess
    template.hasResourceProperties("AWS::ElastiCache::ParameterGroup", {
      CacheParameterGroupFamily: REDIS_PARAMETER_FAMILY,
      Properties: { "maxmemory-policy": "noeviction" },
    });
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      EngineVersion: Match.stringLikeRegexp(`^${REDIS_PARAMETER_FAMILY.replace("redis", "")}\\.`),
      CacheParameterGroupName: { Ref: parameters },
    });
  });

  it("keeps a day of snapshots, in a window apart from maintenance, and upgrades only by hand", () => {
    // Act
    const group = Object.values(resourcesOfType(template, "AWS::ElastiCache::ReplicationGroup"))[0]!
      .Properties!;
    const snapshots = windowMinutes(String(group.SnapshotWindow));
    const [[start, end]] = windowMinutes(String(group.PreferredMaintenanceWindow)) as [[number, number]];

    // Assess
    expect(group).toMatchObject({
      SnapshotRetentionLimit: 1,
      SnapshotWindow: REDIS_SNAPSHOT_WINDOW,
      PreferredMaintenanceWindow: REDIS_MAINTENANCE_WINDOW,
      AutoMinorVersionUpgrade: false,
    });
    expect(end - start).toBeGreaterThanOrEqual(60);
    for (const [from, to] of snapshots) {
      expect(to - from).toBeGreaterThanOrEqual(60);
      expect(to <= start || from >= end, `snapshot ${from}-${to} vs maintenance ${start}-${end}`).toBe(true);
    }
  });

  it("alarms on memory, evictions, CPU credits and connections, saying what to inspect", () => {
    // Prepare
    const group = logicalId(template, "AWS::ElastiCache::ReplicationGroup", "RedisReplicationGroup");
    const expected = [
      [
        "DatabaseMemoryUsagePercentage",
        "GreaterThanThreshold",
        REDIS_ALARMS.memoryPercent,
        /BytesUsedForCache.*redisNodeType/,
      ],
      ["Evictions", "GreaterThanThreshold", 0, /noeviction.*parameter group/],
      ["CPUCreditBalance", "LessThanThreshold", REDIS_ALARMS.minCpuCredits, /CPUUtilization.*redisNodeType/],
      ["CurrConnections", "GreaterThanThreshold", REDIS_ALARMS.maxConnections, /ConcurrentExecutions/],
    ] as const;

    for (const [metric, comparison, threshold, inspect] of expected) {
      // Act
      const alarm = alarmOn(metric, group);

      // Assess
      expect(alarm).toMatchObject({
        Namespace: "AWS/ElastiCache",
        ComparisonOperator: comparison,
        Threshold: threshold,
        Dimensions: [{ Name: "CacheClusterId", Value: { "Fn::Join": ["", [{ Ref: group }, "-001"]] } }],
      });
      expect(JSON.stringify(alarm.AlarmDescription)).toMatch(inspect);
    }
    expect(REDIS_ALARMS.memoryPercent).toBe(80);
  });

  it("admits only the four functions' security groups, on the Redis port", () => {
    // Prepare
    const redisSg = logicalId(template, "AWS::EC2::SecurityGroup", "RedisSecurityGroup");
    const functionSgs = ["Coordinator", "Worker", "ErrorConsumer", "DeadLetters"].map((name) =>
      logicalId(template, "AWS::EC2::SecurityGroup", `${name}SecurityGroup`),
    );

    // Act
    const ingress = Object.values(resourcesOfType(template, "AWS::EC2::SecurityGroupIngress"))
      .map((rule) => rule.Properties!)
      .filter((rule) => JSON.stringify(rule.GroupId).includes(redisSg));

    // Assess
    expect(
      ingress.map((rule) => (rule.SourceSecurityGroupId as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]),
    ).toEqual(expect.arrayContaining(functionSgs));
    expect(ingress).toHaveLength(4);
    for (const rule of ingress) expect(rule).toMatchObject({ FromPort: REDIS_PORT, ToPort: REDIS_PORT });
    const redisGroup = resourcesOfType(template, "AWS::EC2::SecurityGroup")[redisSg]!.Properties!;
    expect(redisGroup.SecurityGroupIngress).toBeUndefined();
  });
});

describe("storage", () => {
  it("blocks public access, encrypts and refuses plain HTTP on every bucket it creates", () => {
    // Act
    const buckets = resourcesOfType(template, "AWS::S3::Bucket");
    const policies = Object.values(resourcesOfType(template, "AWS::S3::BucketPolicy"));

    // Assess
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const [id, bucket] of Object.entries(buckets)) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
      });
      const policy = policies.find((p) => JSON.stringify(p.Properties?.Bucket).includes(id));
      expect(JSON.stringify(policy?.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it("expires originals and thumbnails after the record TTL (7 days) and aborts uploads after a day", () => {
    // Act
    const rules = (prefix: string) => {
      const id = logicalId(template, "AWS::S3::Bucket", `Storage${prefix}`);
      return (
        resourcesOfType(template, "AWS::S3::Bucket")[id]!.Properties!.LifecycleConfiguration as {
          Rules: Props[];
        }
      ).Rules;
    };

    // Assess
    for (const bucket of ["Originals", "Thumbnails"]) {
      expect(rules(bucket)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: "Enabled",
          }),
          expect.objectContaining({ ExpirationInDays: 7, Status: "Enabled" }),
        ]),
      );
    }
  });
});

describe("admin API", () => {
  it("requires IAM authorization on every route and logs every request", () => {
    // Act
    const routes = Object.values(resourcesOfType(template, "AWS::ApiGatewayV2::Route"));

    // Assess
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route.Properties?.AuthorizationType).toBe("AWS_IAM");
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("userArn") },
    });
    template.resourceCountIs("AWS::Lambda::Url", 0);
  });

  it("throttles the stage at 50 requests a second with a burst of 100, above one dashboard's queue", () => {
    // Assess: the values infra/README.md reasons about ("Admin API throttling"). A dashboard keeps at
    // most 6 thumbnail requests in flight (dashboard/request-queue.js) plus a few JSON calls.
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    expect(ADMIN_API_THROTTLE.burstLimit).toBeGreaterThanOrEqual(10 * DEFAULTS.concurrency);
    expect(ADMIN_API_THROTTLE.rateLimit).toBeLessThanOrEqual(ADMIN_API_THROTTLE.burstLimit);
  });
});

describe("observability", () => {
  it("sets a retention on every log group", () => {
    // Act
    const groups = Object.values(resourcesOfType(template, "AWS::Logs::LogGroup"));

    // Assess
    expect(groups.length).toBeGreaterThanOrEqual(5);
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(30);
  });

  it("alarms on a non-empty dead-letter queue, worker errors and worker throttles", () => {
    // Act
    const alarms = Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).map((a) => ({
      metric: a.Properties?.MetricName,
      on: JSON.stringify(a.Properties?.Dimensions),
      actions: a.Properties?.AlarmActions,
    }));

    // Assess
    for (const queue of ["SliceDeliveryDlq", "WorkerFailures", "CoordinatorFailures"]) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          metric: "ApproximateNumberOfMessagesVisible",
          on: expect.stringContaining(queue),
        }),
      );
    }
    for (const metric of ["Errors", "Throttles"]) {
      expect(alarms).toContainEqual(
        expect.objectContaining({ metric, on: expect.stringContaining(fnId("Worker")) }),
      );
    }
    for (const alarm of alarms) expect(alarm.actions).toHaveLength(1);
  });

  it("alarms on dead-letter consumer errors and on any dead-lettered image, saying what to inspect", () => {
    // Act
    const alarms = Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).map(
      (a) => a.Properties!,
    );
    const errors = alarms.find(
      (a) => a.MetricName === "Errors" && JSON.stringify(a.Dimensions).includes(fnId("DeadLetters")),
    );
    const deadLettered = alarms.find((a) => a.MetricName === "ImagesDeadLettered");

    // Assess
    expect(errors).toMatchObject({ Namespace: "AWS/Lambda", Statistic: "Sum", Threshold: 1 });
    expect(errors?.AlarmDescription).toMatch(/thumbs-dead-letters/);
    // Where and how Powertools publishes it: namespace Thumbs, one dimension, the handler's service.
    expect(deadLettered).toMatchObject({
      Namespace: "Thumbs",
      Dimensions: [{ Name: "service", Value: "thumbs-dead-letters" }],
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 1,
      TreatMissingData: "notBreaching",
    });
    expect(deadLettered?.AlarmDescription).toMatch(/ProcessingFailed.*logs.*retry.*admin API/);
  });
  it("names the queue each dead-letter queue alarm watches", () => {
    for (const queue of ["SliceDeliveryDlq", "WorkerFailures", "CoordinatorFailures"]) {
      // Act
      const alarm = alarmOn("ApproximateNumberOfMessagesVisible", queue);
      const description = JSON.stringify(alarm.AlarmDescription);

      // Assess
      expect(description).toContain(`the ${queue} queue`);
      expect(description).toContain(logicalId(template, "AWS::SQS::Queue", queue));
    }
  });

  it("alarms on admin API errors and 5xx, coordinator throttles and dropped worker events", () => {
    // Prepare
    const api = logicalId(template, "AWS::ApiGatewayV2::Api", "AdminApi");

    // Act
    const errorConsumer = alarmOn("Errors", fnId("ErrorConsumer"));
    const api5xx = alarmOn("5xx", api);
    const throttles = alarmOn("Throttles", fnId("Coordinator"));
    const dropped = alarmOn("AsyncEventsDropped", fnId("Worker"));

    // Assess
    expect(errorConsumer).toMatchObject({ Namespace: "AWS/Lambda", Statistic: "Sum", Threshold: 1 });
    expect(errorConsumer.AlarmDescription).toMatch(/thumbs-error-consumer/);
    expect(api5xx).toMatchObject({
      Namespace: "AWS/ApiGateway",
      Dimensions: [{ Name: "ApiId", Value: { Ref: api } }],
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
    });
    expect(api5xx.AlarmDescription).toMatch(/access logs/);
    expect(throttles).toMatchObject({ Namespace: "AWS/Lambda", Statistic: "Sum", Threshold: 1 });
    expect(dropped).toMatchObject({
      Namespace: "AWS/Lambda",
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
    });
    expect(dropped.AlarmDescription).toMatch(/WorkerFailures/);
  });

  it("lets CloudWatch alarms of this account, and only them, publish to the TLS-only alarm topic", () => {
    // Prepare
    const topic = logicalId(template, "AWS::SNS::Topic", "AlarmsTopic");
    const key = logicalId(template, "AWS::KMS::Key", "AlarmsKey");

    // Act
    const policy = Object.values(resourcesOfType(template, "AWS::SNS::TopicPolicy")).find((p) =>
      JSON.stringify(p.Properties?.Topics).includes(topic),
    )!.Properties!.PolicyDocument as { Statement: Props[] };
    const keyPolicy = resourcesOfType(template, "AWS::KMS::Key")[key]!.Properties!.KeyPolicy as {
      Statement: Props[];
    };

    // Assess
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Action: "sns:Publish",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: { Ref: topic },
        Condition: {
          StringEquals: { "aws:SourceAccount": "123456789012" },
          ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" },
        },
      }),
    );
    // The topic's key is a customer-managed one whose policy lets CloudWatch encrypt for it.
    template.hasResourceProperties("AWS::SNS::Topic", {
      KmsMasterKeyId: { "Fn::GetAtt": [key, "Arn"] },
    });
    expect(keyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: expect.arrayContaining(["kms:Decrypt", "kms:GenerateDataKey*"]),
      }),
    );
  });
});

describe("the worker's throttle alarm", () => {
  it("fires only when throttling lasts 30 minutes: a large order queues by design under the cap", () => {
    // Act
    const throttles = alarmOn("Throttles", fnId("Worker"));

    // Assess
    expect(throttles).toMatchObject({ EvaluationPeriods: 6, Period: 300 });
    expect(throttles.AlarmDescription).toMatch(/30 minutes straight/);
  });
});
