import type { SNSClient } from "@aws-sdk/client-sns";
import { sliceMessage } from "@thumbs/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  followUpSlices,
  publishFollowUps,
  REQUEUE_BASE_DELAY_MS,
  REQUEUE_MAX_DELAY_MS,
  requeueDelayMs,
} from "../src/follow-up.js";

const item = (index: number) => ({ index, key: `orders/A-1/IMG_${index}.JPG` });

describe("Transient re-queue backoff", () => {
  it("waits a jittered time under an exponential ceiling, never past what the invocation has left", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: -10_000, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, availableMs, draw) => {
          // Act
          const delay = requeueDelayMs(attempt, availableMs, () => draw);

          // Assess
          const ceiling = Math.min(REQUEUE_MAX_DELAY_MS, REQUEUE_BASE_DELAY_MS * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.max(0, Math.min(ceiling, availableMs)));
        },
      ),
    );
    expect(requeueDelayMs(0, 60_000, () => 0.999)).toBe(999);
    expect(requeueDelayMs(1, 60_000, () => 0.999)).toBe(999);
    expect(requeueDelayMs(3, 60_000, () => 0.999)).toBe(3996);
    expect(requeueDelayMs(10, 60_000, () => 0.999)).toBe(7992);
  });

  it("sends hand-backs at once and Transient re-queues after the wait, at the next attempt", async () => {
    // Prepare: an SNS client that records what it is sent, and a wait that records its length.
    const events: string[] = [];
    const sns = {
      send: async (command: { input: { PublishBatchRequestEntries: Array<{ Message: string }> } }) => {
        for (const entry of command.input.PublishBatchRequestEntries) {
          const message = JSON.parse(entry.Message) as { attempt: number; items: unknown[] };
          events.push(`publish attempt ${message.attempt} (${message.items.length})`);
        }
        return { Successful: command.input.PublishBatchRequestEntries.map((_, i) => ({ Id: String(i) })) };
      },
    } as unknown as SNSClient;
    const slice = sliceMessage("A-1", 0, [item(0), item(1), item(2)], 2);
    const followUps = followUpSlices(slice, [item(0)], [item(1), item(2)]);

    // Act
    await publishFollowUps(sns, "arn:aws:sns:us-east-1:123456789012:slices", followUps, 1_500, async (ms) => {
      events.push(`wait ${ms}`);
    });

    // Assess
    expect(events).toEqual(["publish attempt 2 (1)", "wait 1500", "publish attempt 3 (2)"]);
  });
});
