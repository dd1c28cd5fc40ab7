import { describe, expect, it } from "vitest";
import { localContext, snsEventFromSqsBody } from "../src/sns-event.js";

describe("snsEventFromSqsBody", () => {
  it("rebuilds the event SNS hands to Lambda from an SNS-to-SQS envelope", () => {
    // Prepare
    const body = JSON.stringify({
      Type: "Notification",
      MessageId: "m-1",
      TopicArn: "arn:aws:sns:us-east-1:000000000000:slices",
      Message: '{"hello":1}',
      Timestamp: "2026-01-01T00:00:00.000Z",
    });

    // Act
    const event = snsEventFromSqsBody(body);

    // Assess
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toMatchObject({
      EventSource: "aws:sns",
      Sns: {
        MessageId: "m-1",
        Message: '{"hello":1}',
        TopicArn: "arn:aws:sns:us-east-1:000000000000:slices",
      },
    });
  });
});

describe("localContext", () => {
  it("counts the remaining time down from the configured timeout", () => {
    // Act
    const context = localContext("thumbs-worker", 60_000, "r-1");

    // Assess
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(59_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(60_000);
  });
});
