import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, type Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
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
 * The pipeline's alarms, all sent to one topic. Any message in a dead-letter queue is an order that
 * will not finish by itself; worker errors and throttles show slices failing or waiting.
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

  /** Alarms as soon as a queue holds a message: each one is work that ran out of retries. */
  queueNotEmpty(id: string, queue: IQueue, what: string): Alarm {
    return this.alarm(id, queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum" }), {
      description: `${what}: messages waiting in ${id}; inspect and replay them.`,
    });
  }

  /** Alarms on any error of a function over five minutes. */
  functionErrors(id: string, fn: IFunction, what: string): Alarm {
    return this.alarm(id, fn.metricErrors({ statistic: "Sum" }), {
      description: `${what} failed; async invocations are retried, then go to the failure queue.`,
    });
  }

  /** Alarms on any throttled invocation: reserved or account concurrency is exhausted. */
  functionThrottles(id: string, fn: IFunction, what: string): Alarm {
    return this.alarm(id, fn.metricThrottles({ statistic: "Sum" }), {
      description: `${what} was throttled; raise its reserved concurrency or the account limit.`,
    });
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
