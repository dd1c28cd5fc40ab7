import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { acknowledge } from "./nag.js";

export interface StorageProps {
  /** Import this existing bucket for originals instead of creating one. */
  originalsBucketName: string | undefined;
  /** Objects in the originals (when created here) and thumbnails buckets expire after this; 0 keeps them. */
  objectExpirationDays: number;
  removalPolicy: RemovalPolicy;
}

/**
 * The originals bucket (created, or an existing one imported by name) and the thumbnails bucket, plus
 * a bucket for their server access logs. Every bucket created here blocks public access, refuses
 * plain HTTP and TLS below 1.2, and encrypts with S3-managed keys (the Lambdas then need no KMS
 * permissions).
 */
export class Storage extends Construct {
  readonly originals: IBucket;
  readonly thumbnails: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    const secure: BucketProps = {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      // An upload the worker or a client abandoned is never completed a day later; its parts cost
      // storage until aborted.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    };
    // The pipeline's own data: once an order's Redis records expire, nothing lists, retries or links
    // its images, so they expire too (objectExpirationDays, by default the record TTL in days).
    const data: BucketProps = {
      ...secure,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...(props.objectExpirationDays > 0
          ? [{ id: "ExpireObjects", expiration: Duration.days(props.objectExpirationDays) }]
          : []),
      ],
    };

    this.accessLogs = new Bucket(this, "AccessLogs", {
      ...secure,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { expiration: Duration.days(90) },
      ],
    });
    acknowledge(
      this.accessLogs,
      "AwsSolutions-S1",
      "This is the server access log bucket of the other buckets; logging it into itself would log " +
        "its own log deliveries without end.",
    );

    this.originals = props.originalsBucketName
      ? Bucket.fromBucketName(this, "Originals", props.originalsBucketName)
      : new Bucket(this, "Originals", {
          ...data,
          serverAccessLogsBucket: this.accessLogs,
          serverAccessLogsPrefix: "originals/",
        });

    this.thumbnails = new Bucket(this, "Thumbnails", {
      ...data,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "thumbnails/",
    });
  }
}
