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
 * The stage's throttling, a token bucket for the whole API (infra/README.md, "Admin API throttling").
 * A dashboard keeps at most 6 thumbnail requests in flight (its queue) plus a few JSON calls, ~10 at
 * once; stored thumbnails come from S3 by presigned URL and cost none. A burst of 100 lets ~10
 * dashboards open an order at the same instant without a 429; 50 a second lets one dashboard that
 * falls back to the API for every tile (6 in flight, ~0.1 s each) run near full speed. Both stay far
 * below what Redis (one connection per warm function) and the account's Lambda concurrency take.
 */
export const ADMIN_API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

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
      throttle: ADMIN_API_THROTTLE,
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
