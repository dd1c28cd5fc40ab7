import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { acknowledge } from "./nag.js";

/**
 * A queue that keeps what the pipeline could not deliver or process, for inspection and replay.
 * SQS-managed encryption rather than KMS: SNS and Lambda destinations can write to it without a key
 * policy. Kept 14 days, SQS's maximum, so a weekend is not enough to lose a message.
 */
export function deadLetterQueue(scope: Construct, id: string, removalPolicy: RemovalPolicy): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  acknowledge(
    queue,
    "AwsSolutions-SQS3",
    "This queue is itself a dead-letter queue (of an SNS subscription, a Lambda on-failure destination " +
      "or an EventBridge target); a dead-letter queue of its own would only move the same messages " +
      "again. An alarm fires when it holds any message.",
  );
  return queue;
}
