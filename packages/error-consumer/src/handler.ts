import { Logger } from "@aws-lambda-powertools/logger";
import { SNSClient } from "@aws-sdk/client-sns";
import { connectRedis, OrderLedger } from "@thumbs/core";
import { applyResizeSettings, createWorkerS3 } from "@thumbs/worker";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import { createAdminApi } from "./api.js";
import { loadApiConfig } from "./config.js";

const config = loadApiConfig();
// Thumbnails on demand resize as the worker does.
applyResizeSettings();
const redis = await connectRedis(config.redis);
const ledger = new OrderLedger(redis, {
  keyPrefix: config.redis.keyPrefix,
  ttlSeconds: config.redis.ttlSeconds,
});
// The worker's client: on-demand thumbnails fetch originals and store thumbnails as the worker does.
const s3 = createWorkerS3({ forcePathStyle: config.s3ForcePathStyle, concurrency: 2 });
const sns = new SNSClient({});
const logger = new Logger({ serviceName: "thumbs-error-consumer" });
// On AWS the Function URL / HTTP API authorizes with IAM before the function runs.
const api = createAdminApi({ ledger, s3, sns, config });

/** API Gateway HTTP API (payload v2) or Lambda Function URL → the admin API core. */
export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> {
  if (context) logger.addContext(context);
  try {
    const body =
      event.body && event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
    const response = await api({
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: event.queryStringParameters ?? {},
      headers: event.headers ?? {},
      body,
    });
    const binary = typeof response.body !== "string";
    return {
      statusCode: response.status,
      headers: response.headers,
      body: binary ? Buffer.from(response.body).toString("base64") : (response.body as string),
      isBase64Encoded: binary,
    };
  } catch (error) {
    logger.error("request failed", error as Error);
    return {
      statusCode: 500,
      headers: { "content-type": "application/json" },
      body: '{"error":"Internal error"}',
    };
  }
}
