import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
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
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /**
   * Alarms as soon as a queue holds a message: each one is work that ran out of retries. `then` says
   * what to do about it (by default, for a queue nothing consumes: inspect and replay).
   */
  queueNotEmpty(id: string, queue: IQueue, what: string, then = "inspect and replay them."): Alarm {
    return this.alarm(id, queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum" }), {
      description: `${what}: messages waiting in ${id}; ${then}`,
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

  private alarm(id: string, metric: Metric, options: { description: string }): Alarm {
    const alarm = new Alarm(this, id, {
      metric: metric.with({ period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}
