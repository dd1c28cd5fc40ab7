import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";

export const LOCAL_REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export interface EmulatorResources {
  sourceBucket: string;
  thumbnailBucket: string;
  topicName: string;
  queueName: string;
  deadLetterQueueName: string;
  /** The backend's side: order-thumbnails-completed events, and a queue subscribed to read them. */
  orderEventsTopicName: string;
  orderEventsQueueName: string;
}

export const DEFAULT_RESOURCES: EmulatorResources = {
  sourceBucket: "thumbs-originals",
  thumbnailBucket: "thumbs-thumbnails",
  topicName: "thumbs-slices",
  queueName: "thumbs-worker",
  deadLetterQueueName: "thumbs-worker-dlq",
  orderEventsTopicName: "thumbs-order-events",
  orderEventsQueueName: "thumbs-order-events",
};

export interface Emulator {
  server: FauxqsServer;
  endpoint: string;
  resources: EmulatorResources;
  topicArn: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  orderEventsTopicArn: string;
  orderEventsQueueUrl: string;
  clients: { s3: S3Client; sns: SNSClient; sqs: SQSClient };
  /** Environment that points the AWS SDK of another process at this emulator. */
  awsEnv: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in-process (S3 + SNS + SQS on one port) and creates what the pipeline needs: the two
 * buckets, the slice topic, and a queue subscribed to it that stands in for SNS → Lambda delivery,
 * with a dead-letter queue after `maxReceiveCount` failed deliveries; and the order-events topic,
 * with a queue subscribed to it that stands in for the backend listening.
 */
export async function startEmulator(
  options: {
    resources?: Partial<EmulatorResources>;
    visibilityTimeoutSeconds?: number;
    maxReceiveCount?: number;
  } = {},
): Promise<Emulator> {
  const resources = { ...DEFAULT_RESOURCES, ...options.resources };
  const server = await startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const dlq = server.createQueue(resources.deadLetterQueueName);
  const queue = server.createQueue(resources.queueName, {
    attributes: {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 60),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: options.maxReceiveCount ?? 3,
      }),
    },
  });
  const { topicArn } = server.createTopic(resources.topicName);
  server.subscribe({ topic: resources.topicName, queue: resources.queueName });
  const orderEvents = server.createTopic(resources.orderEventsTopicName);
  const orderEventsQueue = server.createQueue(resources.orderEventsQueueName);
  server.subscribe({
    topic: resources.orderEventsTopicName,
    queue: resources.orderEventsQueueName,
    attributes: { RawMessageDelivery: "true" },
  });
  server.createBucket(resources.sourceBucket);
  server.createBucket(resources.thumbnailBucket);

  const common = { endpoint, region: LOCAL_REGION, credentials: CREDENTIALS };
  const clients = {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sns: new SNSClient(common),
    sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false }),
  };
  return {
    server,
    endpoint,
    resources,
    topicArn,
    queueUrl: queue.queueUrl,
    deadLetterQueueUrl: dlq.queueUrl,
    orderEventsTopicArn: orderEvents.topicArn,
    orderEventsQueueUrl: orderEventsQueue.queueUrl,
    clients,
    awsEnv: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
    },
    stop: async () => {
      for (const client of Object.values(clients)) client.destroy();
      await server.stop();
    },
  };
}
