import type { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import type { SliceMessage } from "../src/contracts.js";
import { PublishError } from "../src/errors.js";
import { batchEntries, publishSlices } from "../src/publish-slices.js";

const slice = (i: number, keyBytes = 10): SliceMessage => ({
  version: 2,
  orderId: "o",
  sliceIndex: i,
  items: [{ index: i, key: "k".repeat(keyBytes) }],
  attempt: 0,
});

/** A stand-in SNS client: unit tests may fake the transport; the integration tests use fauxqs. */
function fakeSns(failFirst: (id: string, call: number) => { code: string; sender?: boolean } | undefined) {
  const calls: string[][] = [];
  const client = {
    send: async (command: PublishBatchCommand) => {
      const ids = (command.input.PublishBatchRequestEntries ?? []).map((e) => e.Id!);
      calls.push(ids);
      const failed = ids.flatMap((id) => {
        const f = failFirst(id, calls.length);
        return f ? [{ Id: id, Code: f.code, SenderFault: f.sender ?? false, Message: "nope" }] : [];
      });
      return {
        Successful: ids.filter((id) => !failed.some((f) => f.Id === id)).map((Id) => ({ Id })),
        Failed: failed,
      };
    },
  };
  return { client: client as unknown as SNSClient, calls };
}

describe("batchEntries", () => {
  it("never puts more than 10 entries in a batch (AWS rejects 11; fauxqs does not)", () => {
    // Act
    const batches = batchEntries(Array.from({ length: 23 }, (_, i) => ({ Id: `${i}`, Message: "m" })));

    // Assess
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it("never lets a batch exceed 256 KiB", () => {
    // Prepare
    const big = "x".repeat(100 * 1024);

    // Act
    const batches = batchEntries(Array.from({ length: 5 }, (_, i) => ({ Id: `${i}`, Message: big })));

    // Assess
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it("refuses a single message over the SNS limit", () => {
    expect(() => batchEntries([{ Id: "a", Message: "x".repeat(256 * 1024 + 1) }])).toThrow(/at most 262144/);
  });
});

describe("publishSlices", () => {
  it("retries only the entries SNS reported as failed", async () => {
    // Prepare: the fourth entry fails twice with a throttling error, then succeeds.
    const { client, calls } = fakeSns((id, call) =>
      id === "s3" && call <= 2 ? { code: "Throttled" } : undefined,
    );

    // Act
    await publishSlices(
      client,
      "arn:aws:sns:us-east-1:0:t",
      [0, 1, 2, 3, 4].map((i) => slice(i)),
      { baseDelayMs: 1 },
    );

    // Assess
    expect(calls).toEqual([["s0", "s1", "s2", "s3", "s4"], ["s3"], ["s3"]]);
  });

  it("gives entries distinct ids even when follow-ups share a slice index (SNS refuses repeats)", async () => {
    // Prepare: a hand-back and a Transient re-queue of slice 7.
    const { client, calls } = fakeSns(() => undefined);

    // Act
    await publishSlices(client, "arn", [slice(7), { ...slice(7), attempt: 1 }]);

    // Assess
    expect(new Set(calls[0]).size).toBe(2);
  });

  it("throws PublishError naming the slices that never went out", async () => {
    // Prepare: the second slice's entry fails every time.
    const { client } = fakeSns((id) => (id === "s1" ? { code: "InternalError" } : undefined));

    // Act
    const error = await publishSlices(client, "arn", [slice(0), slice(5)], {
      baseDelayMs: 1,
      maxAttempts: 3,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failedSlices).toEqual([5]);
    expect((error as Error).message).toMatch(/slice 5 \(InternalError/);
  });

  it("does not retry a sender fault", async () => {
    // Prepare
    const { client, calls } = fakeSns((id) =>
      id === "s0" ? { code: "InvalidParameter", sender: true } : undefined,
    );

    // Act + Assess
    await expect(publishSlices(client, "arn", [slice(0)], { baseDelayMs: 1 })).rejects.toBeInstanceOf(
      PublishError,
    );
    expect(calls).toHaveLength(1);
  });
});
