import { type IRole, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { acknowledge, wildcardResourceFinding } from "./nag.js";

/*
 * Explicit grants, one action per need, in place of CDK's grantRead/grantPublish helpers: those add
 * wildcard actions (s3:GetObject*, s3:List*) and, for a topic encrypted with the AWS-managed key, a
 * kms statement on "*". The AWS-managed keys used here (aws/sns, aws/secretsmanager, S3-managed) let
 * any principal of the account use them through their own service, so no KMS grant is needed.
 */

/** s3:ListBucket: listing an order's prefix, and 404 rather than 403 for a missing key. */
export function allowListBucket(role: IRole, bucket: IBucket): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucket.bucketArn] }),
  );
}

/** s3:GetObject on every key: the keys of an order are only known when its event arrives. */
export function allowGetObjects(role: IRole, bucket: IBucket): void {
  const objects = bucket.arnForObjects("*");
  role.addToPrincipalPolicy(new PolicyStatement({ actions: ["s3:GetObject"], resources: [objects] }));
  acknowledge(
    role,
    wildcardResourceFinding(role, objects),
    "Object-level ARN: the function reads whichever originals an order names, known only at run time. " +
      "Scoped to one bucket and one read-only action.",
  );
}

/** s3:PutObject under a prefix: thumbnail keys are derived from order ids and source keys. */
export function allowPutObjects(role: IRole, bucket: IBucket, prefix: string): void {
  const objects = bucket.arnForObjects(`${prefix}*`);
  role.addToPrincipalPolicy(new PolicyStatement({ actions: ["s3:PutObject"], resources: [objects] }));
  acknowledge(
    role,
    wildcardResourceFinding(role, objects),
    "Object-level ARN: thumbnail keys are derived at run time from the order id and source key. " +
      "Scoped to the thumbnails bucket (and its prefix) and one write action.",
  );
}

/**
 * s3:DeleteObject under a prefix: the worker removes a failed image's part-written thumbnails, so an
 * image ends with both thumbnails or none.
 */
export function allowDeleteObjects(role: IRole, bucket: IBucket, prefix: string): void {
  const objects = bucket.arnForObjects(`${prefix}*`);
  role.addToPrincipalPolicy(new PolicyStatement({ actions: ["s3:DeleteObject"], resources: [objects] }));
  acknowledge(
    role,
    wildcardResourceFinding(role, objects),
    "Object-level ARN: thumbnail keys are derived at run time from the order id and source key. " +
      "Scoped to the thumbnails bucket (and its prefix) and one delete action.",
  );
}

/** sns:Publish (also what authorizes PublishBatch) on one topic. */
export function allowPublish(role: IRole, topic: ITopic): void {
  role.addToPrincipalPolicy(new PolicyStatement({ actions: ["sns:Publish"], resources: [topic.topicArn] }));
}

/** secretsmanager:GetSecretValue on one secret: all Powertools' getSecret calls. */
export function allowReadSecret(role: IRole, secret: ISecret): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [secret.secretArn] }),
  );
}

/**
 * kms:Decrypt on one customer-managed key, only in requests S3 makes on the role's behalf in `region`
 * (kms:ViaService): reading objects of a bucket encrypted with SSE-KMS under that key, nothing else.
 */
export function allowDecryptViaS3(role: IRole, keyArn: string, region: string): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["kms:Decrypt"],
      resources: [keyArn],
      conditions: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    }),
  );
}
