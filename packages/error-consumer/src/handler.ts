import { Logger } from "@aws-lambda-powertools/logger";
import { connectRedis, OrderLedger } from "@thumbs/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import { createAdminApi } from "./api.js";
import { loadApiConfig } from "./config.js";

const config = loadApiConfig();
const redis = await connectRedis(config.redis);
const ledger = new OrderLedger(redis, {
  keyPrefix: config.redis.keyPrefix,
  ttlSeconds: config.redis.ttlSeconds,
});
const logger = new Logger({ serviceName: "thumbs-error-consumer" });
// On AWS the HTTP API / Function URL authorizes with IAM before the function runs.
const api = createAdminApi({ ledger, apiToken: config.apiToken });

/** API Gateway HTTP API (payload v2) or Lambda Function URL → the admin API core. */
export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> {
  if (context) logger.addContext(context);
  try {
    const response = await api({
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: event.queryStringParameters ?? {},
      headers: event.headers ?? {},
    });
    return { statusCode: response.status, headers: response.headers, body: response.body };
  } catch (error) {
    logger.error("request failed", error as Error);
    return {
      statusCode: 500,
      headers: { "content-type": "application/json" },
      body: '{"error":"Internal error"}',
    };
  }
}
