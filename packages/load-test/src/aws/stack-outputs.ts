import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type Output,
} from "@aws-sdk/client-cloudformation";
import { z } from "zod";

/** The outputs of the deployed stack the load test needs (infra/lib/thumbs-stack.ts names them). */
const StackOutputsSchema = z.object({
  SourceBucketName: z.string().min(1),
  ThumbnailBucketName: z.string().min(1),
  SliceTopicArn: z.string().min(1),
  AdminApiUrl: z.string().min(1),
  CoordinatorFunctionName: z.string().min(1),
  WorkerFunctionName: z.string().min(1),
  EventBusName: z.string().min(1),
  RedisEndpoint: z.string().min(1),
});
export type StackOutputs = z.infer<typeof StackOutputsSchema>;

export const REQUIRED_OUTPUTS = StackOutputsSchema.keyof().options;

/** Picks the named outputs out of DescribeStacks' list; names every missing one. */
export function parseStackOutputs(stackName: string, outputs: readonly Output[]): StackOutputs {
  const byKey = Object.fromEntries(outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const parsed = StackOutputsSchema.safeParse(byKey);
  if (parsed.success) return parsed.data;
  throw new Error(
    `Stack ${stackName} lacks the outputs ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")} (it has: ${Object.keys(byKey).join(", ") || "none"}). ` +
      "Deploy the current infra/ (cdk deploy) or name the right stack with --stack-name.",
  );
}

/** Reads the stack's outputs with CloudFormation DescribeStacks. */
export async function readStackOutputs(cfn: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  const { Stacks = [] } = await cfn
    .send(new DescribeStacksCommand({ StackName: stackName }))
    .catch((error: Error) => {
      throw new Error(
        `Could not describe the CloudFormation stack "${stackName}": ${error.message}. ` +
          'Check AWS_REGION / AWS_PROFILE and the name (--stack-name; the CDK app deploys "Thumbs" by default).',
        { cause: error },
      );
    });
  const stack = Stacks[0];
  if (!stack) throw new Error(`CloudFormation returned no stack named "${stackName}".`);
  return parseStackOutputs(stackName, stack.Outputs ?? []);
}
