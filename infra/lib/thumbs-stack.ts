import {
  adminApiEnv,
  coordinatorEnv,
  deadLetterEnv,
  environment,
  imageConcurrency,
  LAMBDA_MB_PER_VCPU,
  ORDER_COMPLETED_DETAIL_TYPE,
  threadpoolSize,
  workerEnv,
} from "@thumbs/core";
import { Arn, ArnFormat, CfnOutput, Duration, Stack, type StackProps, Token } from "aws-cdk-lib";
import { ComparisonOperator, Metric } from "aws-cdk-lib/aws-cloudwatch";
import { EventBus, type IEventBus, Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Alias } from "aws-cdk-lib/aws-kms";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { Topic } from "aws-cdk-lib/aws-sns";
import { LambdaSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { Construct } from "constructs";
import {
  allowDecryptViaS3,
  allowDeleteObjects,
  allowGetObjects,
  allowListBucket,
  allowPublish,
  allowPutObjects,
  allowReadSecret,
} from "./access.js";
import { AdminApi } from "./admin-api.js";
import { Alarms } from "./alarms.js";
import type { ThumbsConfig } from "./config.js";
import { deadLetterQueue } from "./dead-letters.js";
import { Network } from "./network.js";
import { installedVersion } from "./paths.js";
import { METRICS_NAMESPACE, PipelineFunction, type PipelineFunctionProps } from "./pipeline-function.js";
import { Redis } from "./redis.js";
import { Storage } from "./storage.js";

/**
 * The dead-letter consumer's service: its handler names itself this in its logs and metrics
 * (packages/worker/src/dead-letter-handler.ts), and the ImagesDeadLettered alarm needs the same
 * `service` dimension to see the metric.
 */
export const DEAD_LETTERS_SERVICE = "thumbs-dead-letters";
/** Settling a slice is a few Redis round trips per message; a minute covers a slow Redis failover. */
const DEAD_LETTERS_TIMEOUT = Duration.seconds(60);
/**
 * The admin API function's timeout: API Gateway gives up on an integration after 30 s (a bare 503),
 * so the function must answer before that, with the on-demand thumbnail deadline below its own.
 */
export const ERROR_CONSUMER_TIMEOUT_SECONDS = 25;
/** The whole deadline of a thumbnail made on demand (fetch, decode, store); the worker allows 30 s. */
export const ON_DEMAND_TIMEOUT_SECONDS = 20;
/** Lifetime of the presigned thumbnail URLs the image listing returns to the dashboard. */
export const THUMBNAIL_URL_SECONDS = 600;

export interface ThumbsStackProps extends StackProps {
  config: ThumbsConfig;
}

/**
 * The whole pipeline: backend event → coordinator → SNS slices → workers (sharp) → thumbnails in S3,
 * with progress and per-image errors in Redis, read through the IAM-authorized admin API.
 */
export class ThumbsStack extends Stack {
  constructor(scope: Construct, id: string, props: ThumbsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { removalPolicy, logRetention } = config;

    const network = new Network(this, "Network", { logRetention, removalPolicy, tracing: config.tracing });
    const storage = new Storage(this, "Storage", {
      originalsBucketName: config.originalsBucketName,
      objectExpirationDays: config.objectExpirationDays,
      removalPolicy,
    });
    const redis = new Redis(this, "Redis", {
      vpc: network.vpc,
      subnets: network.subnets,
      nodeType: config.redis.nodeType,
      multiAz: config.redis.multiAz,
      snapshotRetentionDays: config.redis.snapshotRetentionDays,
      removalPolicy,
    });
    const alarms = new Alarms(this, "Alarms", { removalPolicy, email: config.alarmEmail });

    // The AWS-managed SNS key: the coordinator (an IAM principal) may publish without a key grant,
    // and SNS decrypts for the Lambda subscription itself.
    const sliceTopic = new Topic(this, "SliceTopic", {
      masterKey: Alias.fromAliasName(this, "SnsManagedKey", "alias/aws/sns"),
      enforceSSL: true,
    });
    // The backend's side: one order-thumbnails-completed event per order (packages/core/src/order-events.ts).
    // Same key as the slice topic, so any subscriber the backend adds (SQS, Lambda, HTTPS) can receive it.
    const orderEventsTopic = new Topic(this, "OrderEventsTopic", {
      masterKey: Alias.fromAliasName(this, "OrderEventsSnsKey", "alias/aws/sns"),
      enforceSSL: true,
    });
    // Both slice dead-letter queues are drained by the DeadLetters function below.
    const deadSlices = { consumerTimeout: DEAD_LETTERS_TIMEOUT };
    const sliceDeliveryDlq = deadLetterQueue(this, "SliceDeliveryDlq", removalPolicy, deadSlices);
    const workerFailures = deadLetterQueue(this, "WorkerFailures", removalPolicy, deadSlices);
    const coordinatorFailures = deadLetterQueue(this, "CoordinatorFailures", removalPolicy);

    const shared = {
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      logRetention,
      removalPolicy,
      tracing: config.tracing,
      // sharp at the version the worker is tested with, installed into whichever bundle imports it.
      nativeModules: { sharp: installedVersion("worker", "sharp") },
    } satisfies Partial<PipelineFunctionProps>;
    const redisEnv = {
      REDIS_URL: redis.url,
      REDIS_AUTH_SECRET_ARN: redis.authSecret.secretArn,
      REDIS_KEY_PREFIX: config.redis.keyPrefix,
      RECORD_TTL_SECONDS: String(config.redis.recordTtlSeconds),
    };
    // Safe to retry: the coordinator and worker are idempotent per order and per image.
    const asyncRetries = { retryAttempts: 2, maxEventAge: Duration.hours(6) };

    const coordinator = new PipelineFunction(this, "Coordinator", {
      ...shared,
      pkg: "coordinator",
      description: "Plans an order's images into slices and publishes them to SNS",
      serviceName: "thumbs-coordinator",
      // Sized by tests/coordinator-bundle-memory.test.ts: its bundle alone takes most of 128 MB, and a
      // thrown error maps its stack through the source map (infra/README.md, "Sizing the functions").
      memorySize: 256,
      // Lists up to 100k keys and publishes up to 1,000 slices on a sliver of CPU.
      timeout: Duration.minutes(5),
      environment: environment(coordinatorEnv, {
        ...redisEnv,
        SLICE_TOPIC_ARN: sliceTopic.topicArn,
        ORDER_EVENTS_TOPIC_ARN: orderEventsTopic.topicArn,
        ALLOWED_SOURCE_BUCKETS: storage.originals.bucketName,
        THUMBNAIL_SIZES: config.output.sizes,
        THUMBNAIL_FORMAT: config.output.format,
        THUMBNAIL_QUALITY: optional(config.output.quality),
        FAILURE_THRESHOLD_PERCENT: optional(config.failureThresholdPercent),
      }),
      asyncInvoke: { ...asyncRetries, onFailure: new SqsDestination(coordinatorFailures) },
    });
    allowListBucket(coordinator.role, storage.originals);
    // An order too big for an event names its keys in a manifest object of the originals bucket.
    allowGetObjects(coordinator.role, storage.originals);
    allowPublish(coordinator.role, sliceTopic);
    allowPublish(coordinator.role, orderEventsTopic);

    const worker = new PipelineFunction(this, "Worker", {
      ...shared,
      pkg: "worker",
      description: "Resizes one slice of an order into thumbnails with sharp",
      serviceName: "thumbs-worker",
      memorySize: config.worker.memoryMb,
      timeout: Duration.seconds(config.worker.timeoutSeconds),
      reservedConcurrentExecutions: config.worker.reservedConcurrency,
      environment: environment(workerEnv, {
        ...redisEnv,
        THUMBNAIL_BUCKET: storage.thumbnails.bucketName,
        THUMBNAIL_PREFIX: config.thumbnailPrefix,
        // Hand-backs near the time limit and Transient re-queues go back to the slice topic.
        SLICE_TOPIC_ARN: sliceTopic.topicArn,
        ORDER_EVENTS_TOPIC_ARN: orderEventsTopic.topicArn,
        CONCURRENCY: optional(config.worker.concurrency),
        // libuv's pool caps how many sharp pipelines run at once (default 4), and it is sized before
        // the handler runs, so it is set here, from the same rule the worker uses for images in flight.
        UV_THREADPOOL_SIZE: String(
          threadpoolSize(
            config.worker.concurrency ?? imageConcurrency(config.worker.memoryMb / LAMBDA_MB_PER_VCPU),
          ),
        ),
      }),
      asyncInvoke: { ...asyncRetries, onFailure: new SqsDestination(workerFailures) },
    });
    // ListBucket: without it S3 answers a missing original with 403, and the image would read as
    // AccessDenied instead of NotFound.
    allowListBucket(worker.role, storage.originals);
    allowGetObjects(worker.role, storage.originals);
    allowPutObjects(worker.role, storage.thumbnails, config.thumbnailPrefix);
    allowDeleteObjects(worker.role, storage.thumbnails, config.thumbnailPrefix);
    allowPublish(worker.role, sliceTopic);
    allowPublish(worker.role, orderEventsTopic);
    sliceTopic.addSubscription(new LambdaSubscription(worker.fn, { deadLetterQueue: sliceDeliveryDlq }));

    // A slice in either dead-letter queue will never be resized: without this, its images would stay
    // pending and its order would never complete. Same package as the worker, but no sharp: its bundle
    // imports none, so none is installed (bundle.ts).
    const deadLetters = new PipelineFunction(this, "DeadLetters", {
      ...shared,
      pkg: "worker",
      handlerExport: "./dead-letter-handler",
      description: "Records the pending images of dead-lettered slices as failed, so their orders complete",
      serviceName: DEAD_LETTERS_SERVICE,
      memorySize: 256,
      timeout: DEAD_LETTERS_TIMEOUT,
      environment: environment(deadLetterEnv, {
        ...redisEnv,
        ORDER_EVENTS_TOPIC_ARN: orderEventsTopic.topicArn,
        // A settled image's part-written thumbnails are removed: a failed image has none.
        THUMBNAIL_BUCKET: storage.thumbnails.bucketName,
        THUMBNAIL_PREFIX: config.thumbnailPrefix,
      }),
    });
    for (const queue of [workerFailures, sliceDeliveryDlq]) {
      deadLetters.fn.addEventSource(
        new SqsEventSource(queue, {
          // Each message is a whole slice (up to a thousand images for a large order); a few per
          // invocation keep its Redis work well inside the function's timeout.
          batchSize: 5,
          // The handler reports the messages it could not settle (Redis unreachable): only those are
          // retried, after the visibility timeout, until the queue's retention runs out.
          reportBatchItemFailures: true,
          // An outage can dead-letter thousands of slices at once; a couple of consumers per queue
          // drain them without a burst of Redis connections.
          maxConcurrency: 2,
        }),
      );
    }
    allowPublish(deadLetters.role, orderEventsTopic);
    allowDeleteObjects(deadLetters.role, storage.thumbnails, config.thumbnailPrefix);

    const errorConsumer = new PipelineFunction(this, "ErrorConsumer", {
      ...shared,
      pkg: "error-consumer",
      description: "Admin API: progress, error records, retries, thumbnails on demand",
      serviceName: "thumbs-error-consumer",
      // Makes a missing thumbnail on demand with sharp: one image at a time, so ~half a vCPU is plenty.
      memorySize: 1024,
      // Under API Gateway's 30 s integration limit, and the on-demand deadline under this, so a slow
      // image is answered with its class (503 Transient, 422 TooLarge) instead of a bare 503.
      timeout: Duration.seconds(ERROR_CONSUMER_TIMEOUT_SECONDS),
      // No API_TOKEN: on AWS the HTTP API authorizes every request with IAM before this runs.
      environment: environment(adminApiEnv, {
        ...redisEnv,
        SLICE_TOPIC_ARN: sliceTopic.topicArn,
        // A thumbnail made on demand can change a complete order's counts: the backend hears the update.
        ORDER_EVENTS_TOPIC_ARN: orderEventsTopic.topicArn,
        THUMBNAIL_BUCKET: storage.thumbnails.bucketName,
        THUMBNAIL_PREFIX: config.thumbnailPrefix,
        ON_DEMAND_TIMEOUT_SECONDS: String(ON_DEMAND_TIMEOUT_SECONDS),
        THUMBNAIL_URL_SECONDS: String(THUMBNAIL_URL_SECONDS),
      }),
    });
    // Retries publish slices; the thumbnail grid lists thumbnails and presigns GET URLs for them (the
    // browser's read is then authorized by this role's s3:GetObject); thumbnails on demand read
    // originals and write thumbnails, exactly as the worker does.
    allowPublish(errorConsumer.role, sliceTopic);
    allowPublish(errorConsumer.role, orderEventsTopic);
    allowListBucket(errorConsumer.role, storage.thumbnails);
    allowGetObjects(errorConsumer.role, storage.thumbnails);
    allowListBucket(errorConsumer.role, storage.originals);
    allowGetObjects(errorConsumer.role, storage.originals);
    allowPutObjects(errorConsumer.role, storage.thumbnails, config.thumbnailPrefix);
    // An existing originals bucket encrypted with SSE-KMS: whoever reads originals (the worker, the
    // admin API's thumbnails on demand, the coordinator's manifests) must decrypt with its key.
    if (config.originalsKmsKeyArn) {
      const keyRegion = Arn.split(config.originalsKmsKeyArn, ArnFormat.SLASH_RESOURCE_NAME).region;
      if (!Token.isUnresolved(this.region) && keyRegion !== this.region) {
        throw new Error(
          `Context "originalsKmsKeyArn" names a key in ${keyRegion}, but the stack deploys to ${this.region}: ` +
            "the originals bucket (and so its key) must be in the stack's region, which the functions " +
            "reach through the VPC's S3 gateway endpoint only.",
        );
      }
      for (const fn of [worker, errorConsumer, coordinator]) {
        allowDecryptViaS3(fn.role, config.originalsKmsKeyArn, this.region);
      }
    }
    const adminApi = new AdminApi(this, "AdminApi", {
      handler: errorConsumer.fn,
      logRetention,
      removalPolicy,
    });

    for (const fn of [coordinator, worker, errorConsumer, deadLetters]) {
      redis.admit(fn.securityGroup, `Redis from ${fn.node.id}`);
      allowReadSecret(fn.role, redis.authSecret);
      network.admit(fn.securityGroup, `HTTPS from ${fn.node.id}`);
    }

    const eventBus: IEventBus = config.eventBusName
      ? EventBus.fromEventBusName(this, "EventBus", config.eventBusName)
      : new EventBus(this, "EventBus", { description: "Backend events the thumbnail pipeline reacts to" });
    new Rule(this, "OrderCompleted", {
      eventBus,
      description: "An order's images are uploaded: plan its thumbnails",
      eventPattern: { source: [config.eventSource], detailType: [ORDER_COMPLETED_DETAIL_TYPE] },
      targets: [
        new LambdaFunction(coordinator.fn, {
          // When EventBridge itself cannot invoke the coordinator (throttled, deleted, no permission).
          deadLetterQueue: coordinatorFailures,
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });

    // DeadLetters drains these two within seconds, so these fire mostly when it cannot keep up or keeps
    // failing on a message; ImagesDeadLettered below is what reports dead slices.
    const undrained =
      "DeadLetters drains this queue, so they are slices it has not settled yet: see its logs and errors.";
    alarms.queueNotEmpty(
      "SliceDeliveryDlqNotEmpty",
      sliceDeliveryDlq,
      "SNS could not deliver slices",
      undrained,
    );
    alarms.queueNotEmpty(
      "WorkerFailuresNotEmpty",
      workerFailures,
      "Slices failed every worker retry",
      undrained,
    );
    alarms.queueNotEmpty("CoordinatorFailuresNotEmpty", coordinatorFailures, "Orders could not be planned");
    alarms.functionErrors("WorkerErrors", worker.fn, "The worker");
    // With reserved concurrency, a large order's slices queue as throttled async events and Lambda
    // retries them for up to 6 h: expected, not lost. Alarm only when throttling lasts 30 minutes.
    alarms.threshold("WorkerThrottles", worker.fn.metricThrottles({ statistic: "Sum" }), {
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 6,
      description:
        "The worker has been throttled for 30 minutes straight: orders wait on workerReservedConcurrency. " +
        "Brief throttling during a large order is expected (Lambda retries queued slices for up to 6 h); " +
        "if this persists, raise workerReservedConcurrency within S3's per-prefix rates (infra/README.md).",
    });
    alarms.threshold(
      "WorkerAsyncEventsDropped",
      worker.fn.metric("AsyncEventsDropped", { statistic: "Sum" }),
      {
        threshold: 0,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          "Lambda dropped slices sent to the worker without running them to success (retries exhausted, " +
          "or too old: throttled for longer than the 6 h maximum event age). Each went to the " +
          "WorkerFailures queue, where DeadLetters settles its images as failed; inspect WorkerThrottles, " +
          "WorkerErrors and workerReservedConcurrency.",
      },
    );
    alarms.functionErrors("CoordinatorErrors", coordinator.fn, "The coordinator");
    alarms.functionThrottles("CoordinatorThrottles", coordinator.fn, "The coordinator");
    alarms.functionErrors(
      "ErrorConsumerErrors",
      errorConsumer.fn,
      "The admin API function (error-consumer)",
      "the caller got a 5xx. Inspect its logs (service thumbs-error-consumer), usually Redis or an S3 " +
        "call failing, and the AdminApi5xx alarm.",
    );
    alarms.threshold(
      "AdminApi5xx",
      new Metric({
        namespace: "AWS/ApiGateway",
        metricName: "5xx",
        dimensionsMap: { ApiId: adminApi.api.apiId },
        statistic: "Sum",
      }),
      {
        threshold: 0,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          "The admin API answered 5xx: the function failed or timed out (API Gateway gives up after 30 s), " +
          "or was throttled. Inspect the API's access logs (status, integrationError) and the " +
          "ErrorConsumerErrors alarm and logs.",
      },
    );
    redis.addAlarms(alarms);
    alarms.functionErrors(
      "DeadLettersErrors",
      deadLetters.fn,
      "The dead-letter consumer",
      "the slices it could not settle stay in SliceDeliveryDlq / WorkerFailures and are retried after " +
        "the visibility timeout, their images still pending. Inspect its logs (service " +
        `${DEAD_LETTERS_SERVICE}): usually Redis or the Secrets Manager endpoint is unreachable.`,
    );
    alarms.countAtLeastOne(
      "ImagesDeadLettered",
      { namespace: METRICS_NAMESPACE, name: "ImagesDeadLettered", service: DEAD_LETTERS_SERVICE },
      "Images were recorded as ProcessingFailed because their slice was dead-lettered (the worker failed " +
        `every retry, or SNS could not deliver it). Inspect the ${DEAD_LETTERS_SERVICE} logs ("dead slice ` +
        "settled\": order, slice, lastError) and the worker's errors, fix the cause, then retry the " +
        "orders' failed images from the admin API (POST /orders/{orderId}/retry).",
    );

    // Names the load test and README read: keep them stable.
    new CfnOutput(this, "SourceBucketName", { value: storage.originals.bucketName });
    new CfnOutput(this, "ThumbnailBucketName", { value: storage.thumbnails.bucketName });
    new CfnOutput(this, "SliceTopicArn", { value: sliceTopic.topicArn });
    new CfnOutput(this, "OrderEventsTopicArn", { value: orderEventsTopic.topicArn });
    new CfnOutput(this, "AdminApiUrl", { value: adminApi.url });
    new CfnOutput(this, "CoordinatorFunctionName", { value: coordinator.fn.functionName });
    new CfnOutput(this, "WorkerFunctionName", { value: worker.fn.functionName });
    new CfnOutput(this, "EventBusName", { value: eventBus.eventBusName });
    new CfnOutput(this, "RedisEndpoint", { value: redis.endpoint });
    new CfnOutput(this, "AlarmTopicArn", { value: alarms.topic.topicArn });
  }
}

/** A context option as a variable's value; unset stays unset, so the function keeps its default. */
function optional(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}
