import type { RemovalPolicy } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, type HttpStage, LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

export interface AdminApiProps {
  handler: IFunction;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/** One JSON line per request; `caller` is the IAM principal that signed it. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  time: "$context.requestTime",
  caller: "$context.identity.userArn",
  sourceIp: "$context.identity.sourceIp",
  method: "$context.httpMethod",
  path: "$context.path",
  status: "$context.status",
  latencyMs: "$context.responseLatency",
  integrationError: "$context.integrationErrorMessage",
});

/**
 * The admin API (error-consumer) behind an HTTP API. Every route, the catch-all included, requires
 * IAM (SigV4) authorization: API Gateway rejects an unsigned or unauthorized request before the
 * function runs. Callers need execute-api:Invoke on the API (README shows awscurl).
 */
export class AdminApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, "Api", {
      description: "Thumbs admin API: order progress and per-image errors",
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
      defaultIntegration: new HttpLambdaIntegration("ErrorConsumer", props.handler),
    });

    const accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.api.addStage("Stage", {
      stageName: "$default",
      autoDeploy: true,
      // An admin API: a handful of people, never a burst worth a Redis storm.
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
  }

  /** The API's base URL. */
  get url(): string {
    return this.stage.url;
  }
}
