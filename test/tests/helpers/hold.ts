import { PublishBatchCommand, type PublishBatchRequestEntry } from "@aws-sdk/client-sns";
import type { LocalStack } from "@thumbs/local";
import { onTestFinished } from "vitest";

let holds = 0;

/**
 * Holds the slices the coordinator publishes (they are accepted but not yet sent to the topic) until
 * `release()`, so a test can change the bucket between planning and processing, as a slow SNS
 * delivery or a queue backlog would let happen. Released slices go out through the real client. A test
 * that ends before `release()` (it failed) stops holding, so the stack's later tests are not held.
 */
export function holdSlices(stack: LocalStack): {
  held: PublishBatchRequestEntry[][];
  release(): Promise<void>;
} {
  const sns = stack.emulator.clients.sns;
  const held: PublishBatchRequestEntry[][] = [];
  const name = `holdSlices-${holds++}`;
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "PublishBatchCommand") return next(args);
      const entries = (args.input as { PublishBatchRequestEntries: PublishBatchRequestEntry[] })
        .PublishBatchRequestEntries;
      held.push(entries);
      const output = {
        Successful: entries.map((e) => ({ Id: e.Id, MessageId: "held" })),
        Failed: [],
        $metadata: {},
      };
      return { output, response: {} } as Awaited<ReturnType<typeof next>>;
    },
    { step: "initialize", name },
  );
  onTestFinished(() => {
    sns.middlewareStack.remove(name);
  });
  return {
    held,
    async release() {
      sns.middlewareStack.remove(name);
      for (const batch of held) {
        await sns.send(
          new PublishBatchCommand({ TopicArn: stack.emulator.topicArn, PublishBatchRequestEntries: batch }),
        );
      }
    },
  };
}
