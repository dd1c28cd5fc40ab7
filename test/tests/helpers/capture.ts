import type { SNSClient } from "@aws-sdk/client-sns";

/** Records every PublishBatch request an SNS client sends (the real request, through the real client). */
export function capturePublishBatches(sns: SNSClient): Array<Array<{ Id?: string; Message?: string }>> {
  const batches: Array<Array<{ Id?: string; Message?: string }>> = [];
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "PublishBatchCommand") {
        const input = args.input as { PublishBatchRequestEntries?: Array<{ Id?: string; Message?: string }> };
        batches.push([...(input.PublishBatchRequestEntries ?? [])]);
      }
      return next(args);
    },
    { step: "initialize", name: "capturePublishBatches" },
  );
  return batches;
}
