import { Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { Effect, PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface AlarmsProps {
  removalPolicy: RemovalPolicy;
  /** Subscribed to the alarm topic when given (the address must confirm the subscription). */
  email: string | undefined;
}

/** How a threshold alarm compares its metric; `threshold` alarms default to one 5-minute period. */
export interface ThresholdOptions {
  threshold: number;
  comparison: ComparisonOperator;
  description: string;
  evaluationPeriods?: number;
}

/**
 * The pipeline's alarms, all sent to one topic. A message left in a dead-letter queue is work that
 * will not finish by itself; dead-lettered images, function errors and throttles show images failing,
 * slices failing or waiting.
 */
export class Alarms extends Construct {
  readonly topic: Topic;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);

    // CloudWatch can publish only to a topic whose key lets it: the AWS-managed aws/sns key cannot.
    const key = new Key(this, "Key", {
      description: "Encrypts the thumbs alarm topic",
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");

    this.topic = new Topic(this, "Topic", { masterKey: key, enforceSSL: true });
    // enforceSSL gives the topic a policy of its own (a Deny of plain HTTP), which replaces SNS's
    // default policy: without this Allow nothing lets CloudWatch publish, and every alarm is silent.
    // Scoped to this account's alarms, so no other account's alarm can use the topic.
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarmsToPublish",
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /**
   * Alarms as soon as a queue holds a message: each one is work that ran out of retries. `then` says
   * what to do about it (by default, for a queue nothing consumes: inspect and replay).
   */
  queueNotEmpty(id: string, queue: IQueue, what: string, then = "inspect and replay them."): Alarm {
    return this.alarm(id, queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum" }), {
      description: `${what}: messages waiting in the ${queue.node.id} queue (${queue.queueName}); ${then}`,
    });
  }

  /**
   * Alarms on any error of a function over five minutes. `then` says what becomes of the failed
   * invocation, which depends on how the function is invoked.
   */
  functionErrors(
    id: string,
    fn: IFunction,
    what: string,
    then = "async invocations are retried, then go to the failure queue.",
  ): Alarm {
    return this.alarm(id, fn.metricErrors({ statistic: "Sum" }), { description: `${what} failed; ${then}` });
  }

  /** Alarms on any throttled invocation: reserved or account concurrency is exhausted. */
  functionThrottles(id: string, fn: IFunction, what: string): Alarm {
    return this.alarm(id, fn.metricThrottles({ statistic: "Sum" }), {
      description: `${what} was throttled; raise its reserved concurrency or the account limit.`,
    });
  }

  /**
   * Alarms on any count of one of the pipeline's own metrics over five minutes. Powertools publishes
   * them (EMF) with one dimension, `service` (POWERTOOLS_SERVICE_NAME or the handler's own serviceName),
   * and CloudWatch matches a metric only with exactly its dimensions: the service must be the emitter's.
   */
  countAtLeastOne(
    id: string,
    metric: { namespace: string; name: string; service: string },
    description: string,
  ): Alarm {
    const count = new Metric({
      namespace: metric.namespace,
      metricName: metric.name,
      dimensionsMap: { service: metric.service },
      statistic: "Sum",
    });
    return this.alarm(id, count, { description });
  }

  /**
   * Alarms on any metric crossing a threshold (5-minute periods, missing data not breaching). The
   * metric's statistic is the caller's: Maximum for a level, Minimum for a balance, Sum for a count.
   */
  threshold(id: string, metric: Metric, options: ThresholdOptions): Alarm {
    const alarm = new Alarm(this, id, {
      metric: metric.with({ period: Duration.minutes(5) }),
      threshold: options.threshold,
      comparisonOperator: options.comparison,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }

  private alarm(id: string, metric: Metric, options: { description: string }): Alarm {
    return this.threshold(id, metric, {
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: options.description,
    });
  }
}
