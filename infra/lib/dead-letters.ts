import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { acknowledge } from "./nag.js";

/**
 * Lambda's advice for a queue a function consumes: a visibility timeout of at least six times the
 * function's timeout, so a batch whose invocation is throttled and retried by the poller is not handed
 * to a second consumer meanwhile. Lambda refuses the event source mapping outright when the visibility
 * timeout is shorter than the function's timeout.
 */
export const CONSUMER_VISIBILITY_FACTOR = 6;

export interface DeadLetterQueueOptions {
  /** The timeout of the function that consumes the queue, if one does: sets the visibility timeout. */
  consumerTimeout?: Duration;
}

/**
 * A queue that keeps what the pipeline could not deliver or process, for inspection and replay (or for
 * the dead-letter consumer to settle). SQS-managed encryption rather than KMS: SNS and Lambda
 * destinations can write to it without a key policy. Kept 14 days, SQS's maximum, so a weekend is not
 * enough to lose a message.
 */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  removalPolicy: RemovalPolicy,
  options: DeadLetterQueueOptions = {},
): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    visibilityTimeout: options.consumerTimeout
      ? Duration.seconds(options.consumerTimeout.toSeconds() * CONSUMER_VISIBILITY_FACTOR)
      : undefined,
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
