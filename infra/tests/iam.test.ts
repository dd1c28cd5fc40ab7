import type { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { logicalId, resourcesOfType, synth } from "./synth.js";

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Actions AWS authorizes only on "Resource": "*" (no resource-level permissions, or unknown ids). */
const RESOURCE_STAR_ALLOWED = new Set([
  // Lambda's VPC network interfaces (what AWSLambdaVPCAccessExecutionRole grants).
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
  // Active tracing.
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
]);

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every identity-policy statement in the template, with the role or policy it belongs to. */
function identityStatements(template: Template): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  for (const [id, policy] of Object.entries(resourcesOfType(template, "AWS::IAM::Policy"))) {
    const document = policy.Properties?.PolicyDocument as { Statement: Statement[] };
    for (const statement of document.Statement) found.push({ owner: id, statement });
  }
  for (const [id, role] of Object.entries(resourcesOfType(template, "AWS::IAM::Role"))) {
    const inline = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    for (const policy of inline) {
      for (const statement of policy.PolicyDocument.Statement) found.push({ owner: id, statement });
    }
  }
  return found;
}

/** The actions granted to one function's role (its inline and default policies: `<Name>Role…`). */
function actionsOf(template: Template, fn: string): string[] {
  return identityStatements(template)
    .filter(({ owner }) => owner.startsWith(`${fn}Role`))
    .flatMap(({ statement }) => asArray(statement.Action));
}

// Prepare (shared): one synth per configuration.
const configurations = [
  ["default", synth()],
  [
    "with tracing, an imported bucket and a thumbnail prefix",
    synth({ tracing: "true", originalsBucketName: "my-photos", thumbnailPrefix: "thumbs/" }),
  ],
] as const;

describe.each(configurations)("IAM (%s)", (_name, { template }) => {
  const statements = identityStatements(template);

  it("grants no wildcard action", () => {
    // Act
    const wildcards = statements
      .flatMap(({ statement }) => asArray(statement.Action))
      .filter((a) => a.includes("*"));

    // Assess
    expect(statements.length).toBeGreaterThan(10);
    expect(wildcards).toEqual([]);
  });

  it('uses "Resource": "*" only for actions AWS authorizes on nothing narrower', () => {
    // Act
    const onStar = statements
      .filter(({ statement }) => asArray(statement.Resource).includes("*"))
      .flatMap(({ statement }) => asArray(statement.Action));

    // Assess
    expect(onStar.filter((action) => !RESOURCE_STAR_ALLOWED.has(action))).toEqual([]);
  });

  it("attaches no managed policy to any role", () => {
    // Act
    const roles = Object.values(resourcesOfType(template, "AWS::IAM::Role"));

    // Assess
    expect(roles.length).toBeGreaterThanOrEqual(4);
    for (const role of roles) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    template.resourceCountIs("AWS::IAM::ManagedPolicy", 0);
  });
});

describe("least privilege per function", () => {
  // Prepare (shared)
  const [, { template }] = configurations[0];
  // What each function may do in the pipeline: its distinct actions without the VPC (ec2:) and log
  // (logs:) grants every function has.
  const pipelineActions = (fn: string) =>
    [...new Set(actionsOf(template, fn))]
      .filter((a) => !a.startsWith("ec2:") && !a.startsWith("logs:"))
      .sort();

  it("lets the coordinator list originals, read manifests and publish slices, and nothing more", () => {
    // Act
    const actions = pipelineActions("Coordinator");

    // Assess
    expect(actions).toEqual([
      "s3:GetObject",
      "s3:ListBucket",
      "secretsmanager:GetSecretValue",
      "sns:Publish",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:SendMessage",
    ]);
  });

  it("lets the worker read originals, write (and clear a failed image's) thumbnails and hand back slices, and nothing more", () => {
    // Act
    const actions = pipelineActions("Worker");

    // Assess
    expect(actions).toEqual([
      "s3:DeleteObject",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:PutObject",
      "secretsmanager:GetSecretValue",
      "sns:Publish",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:SendMessage",
    ]);
  });

  it("lets the admin API read Redis, retry through the topic and make thumbnails, and nothing more", () => {
    // Act
    const actions = pipelineActions("ErrorConsumer");

    // Assess
    expect(actions).toEqual([
      "s3:GetObject",
      "s3:ListBucket",
      "s3:PutObject",
      "secretsmanager:GetSecretValue",
      "sns:Publish",
    ]);
  });

  it("lets the dead-letter consumer drain its queues, clear failed images' thumbnails and announce, and nothing more", () => {
    // Act
    const actions = pipelineActions("DeadLetters");

    // Assess: S3 only to delete (under the thumbnail prefix), and SQS only to consume.
    expect(actions).toEqual([
      "s3:DeleteObject",
      "secretsmanager:GetSecretValue",
      "sns:Publish",
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
    ]);
  });

  it("lets the dead-letter consumer read only the two slice dead-letter queues", () => {
    // Prepare
    const queues = ["WorkerFailures", "SliceDeliveryDlq", "CoordinatorFailures"].map((q) =>
      logicalId(template, "AWS::SQS::Queue", q),
    );

    // Act
    const resources = identityStatements(template)
      .filter(
        ({ owner, statement }) =>
          owner.startsWith("DeadLettersRole") && asArray(statement.Action).some((a) => a.startsWith("sqs:")),
      )
      .flatMap(({ statement }) => asArray(statement.Resource).map((r) => JSON.stringify(r)));

    // Assess
    expect(resources.sort()).toEqual(
      queues
        .slice(0, 2)
        .map((id) => JSON.stringify({ "Fn::GetAtt": [id, "Arn"] }))
        .sort(),
    );
  });

  it("scopes object access: reads from originals, writes to thumbnails", () => {
    // Prepare
    const originals = logicalId(template, "AWS::S3::Bucket", "StorageOriginals");
    const thumbnails = logicalId(template, "AWS::S3::Bucket", "StorageThumbnails");
    const statementFor = (action: string) =>
      identityStatements(template).find(({ statement }) => asArray(statement.Action).includes(action))!
        .statement;

    // Act
    const get = JSON.stringify(statementFor("s3:GetObject").Resource);
    const put = JSON.stringify(statementFor("s3:PutObject").Resource);

    // Assess
    expect(get).toContain(originals);
    expect(get).not.toContain(thumbnails);
    expect(put).toContain(thumbnails);
    expect(put).not.toContain(originals);
  });

  it("scopes publishing: slices for the coordinator, worker and admin API; order events for all four", () => {
    // Prepare
    const topics = {
      slices: logicalId(template, "AWS::SNS::Topic", "SliceTopic"),
      orderEvents: logicalId(template, "AWS::SNS::Topic", "OrderEventsTopic"),
    };
    const publishesTo = (fn: string) =>
      identityStatements(template)
        .filter(
          ({ owner, statement }) =>
            owner.startsWith(`${fn}Role`) && asArray(statement.Action).includes("sns:Publish"),
        )
        .flatMap(({ statement }) => asArray(statement.Resource).map((r) => JSON.stringify(r)))
        .map((r) => Object.entries(topics).find(([, id]) => r.includes(id))?.[0] ?? r)
        .sort();

    // Act
    const granted = ["Coordinator", "Worker", "ErrorConsumer", "DeadLetters"].map(publishesTo);

    // Assess
    expect(granted).toEqual([
      ["orderEvents", "slices"],
      ["orderEvents", "slices"],
      ["orderEvents", "slices"],
      ["orderEvents"],
    ]);
  });
});

describe("SSE-KMS key of an existing originals bucket (originalsKmsKeyArn)", () => {
  const keyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  /** The statements granting kms:Decrypt, by the function whose role holds them. */
  const decryptGrants = (template: Template) =>
    identityStatements(template).filter(({ statement }) => asArray(statement.Action).includes("kms:Decrypt"));
  const fnOf = (owner: string) =>
    ["Coordinator", "Worker", "ErrorConsumer", "DeadLetters"].find((fn) => owner.startsWith(`${fn}Role`));

  it("grants kms:Decrypt on the key, through S3 in the stack's region, to exactly the originals' readers", () => {
    // Act
    const { template } = synth({ originalsBucketName: "my-photos", originalsKmsKeyArn: keyArn });
    const grants = decryptGrants(template);

    // Assess
    expect(grants.map(({ owner }) => fnOf(owner)).sort()).toEqual(["Coordinator", "ErrorConsumer", "Worker"]);
    for (const { statement } of grants) {
      expect(statement).toMatchObject({
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: keyArn,
        Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
      });
    }
  });

  it("grants no kms:Decrypt to those roles without the option", () => {
    for (const context of [{}, { originalsBucketName: "my-photos" }]) {
      // Act
      const { template } = synth(context);
      const grants = decryptGrants(template).filter(({ owner }) => fnOf(owner) !== undefined);

      // Assess
      expect(grants).toEqual([]);
    }
  });

  it.each([
    ["an alias", "arn:aws:kms:us-east-1:111122223333:alias/originals"],
    ["a bare key id", "1234abcd-12ab-34cd-56ef-1234567890ab"],
    ["another service", "arn:aws:s3:::my-photos"],
    ["a short account", "arn:aws:kms:us-east-1:1111:key/1234abcd"],
  ])("fails synth on %s, naming the option", (_what, arn) => {
    // Act
    const run = () => synth({ originalsBucketName: "my-photos", originalsKmsKeyArn: arn });

    // Assess
    expect(run).toThrow(/Context "originalsKmsKeyArn" must be the ARN of a KMS key/);
  });

  it("fails synth without an existing originals bucket, or with a key in another region", () => {
    // Act
    const noBucket = () => synth({ originalsKmsKeyArn: keyArn });
    const otherRegion = () =>
      synth({
        originalsBucketName: "my-photos",
        originalsKmsKeyArn: keyArn.replace("us-east-1", "eu-west-1"),
      });

    // Assess
    expect(noBucket).toThrow(/"originalsKmsKeyArn" is the key of an existing originals bucket/);
    expect(otherRegion).toThrow(/"originalsKmsKeyArn" names a key in eu-west-1.*us-east-1/);
  });
});
