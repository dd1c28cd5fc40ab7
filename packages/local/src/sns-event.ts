import type { Context, SNSEvent } from "aws-lambda";

interface SnsEnvelope {
  Type?: string;
  MessageId?: string;
  TopicArn?: string;
  Subject?: string | null;
  Message: string;
  Timestamp?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** Turns an SQS message body carrying an SNS notification into the event SNS hands to Lambda. */
export function snsEventFromSqsBody(body: string): SNSEvent {
  const envelope = JSON.parse(body) as SnsEnvelope;
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: `${envelope.TopicArn ?? ""}:local`,
        Sns: {
          Type: envelope.Type ?? "Notification",
          MessageId: envelope.MessageId ?? "",
          TopicArn: envelope.TopicArn ?? "",
          Subject: envelope.Subject ?? "",
          Message: envelope.Message,
          Timestamp: envelope.Timestamp ?? new Date().toISOString(),
          SignatureVersion: "1",
          Signature: "",
          SigningCertUrl: "",
          UnsubscribeUrl: "",
          MessageAttributes: Object.fromEntries(
            Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [
              k,
              { Type: v.Type, Value: v.Value },
            ]),
          ),
        },
      },
    ],
  };
}

/** A Lambda context for a local invocation with the given time limit. */
export function localContext(functionName: string, timeoutMs: number, requestId: string): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "1769",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
