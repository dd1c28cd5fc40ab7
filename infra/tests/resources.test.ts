import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../packages/error-consumer/dashboard/request-queue.js";
import { ADMIN_API_THROTTLE } from "../lib/admin-api.js";
import { REDIS_PORT } from "../lib/redis.js";
import { logicalId, resourcesOfType, synth } from "./synth.js";

// Prepare (shared): one synth of the default configuration for every test in this file.
// What the functions run in and on: network, Redis, buckets, the admin API, logs and alarms.
const { template } = synth();

const fnId = (name: string) => logicalId(template, "AWS::Lambda::Function", `${name}Function`);

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
});
