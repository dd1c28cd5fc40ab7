import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type Output,
} from "@aws-sdk/client-cloudformation";

/** The outputs of the deployed stack the load test needs (infra/lib/thumbs-stack.ts names them). */
export interface StackOutputs {
  SourceBucketName: string;
  ThumbnailBucketName: string;
  SliceTopicArn: string;
  AdminApiUrl: string;
  CoordinatorFunctionName: string;
  WorkerFunctionName: string;
  EventBusName: string;
  RedisEndpoint: string;
}

export const REQUIRED_OUTPUTS: ReadonlyArray<keyof StackOutputs> = [
  "SourceBucketName",
  "ThumbnailBucketName",
  "SliceTopicArn",
  "AdminApiUrl",
  "CoordinatorFunctionName",
  "WorkerFunctionName",
  "EventBusName",
  "RedisEndpoint",
];

/** Picks the named outputs out of DescribeStacks' list; names every missing one. */
export function parseStackOutputs(stackName: string, outputs: readonly Output[]): StackOutputs {
  const byKey = new Map(outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const missing = REQUIRED_OUTPUTS.filter((k) => !byKey.get(k));
  if (missing.length > 0) {
    throw new Error(
      `Stack ${stackName} lacks the outputs ${missing.join(", ")} (it has: ${[...byKey.keys()].join(", ") || "none"}). ` +
        "Deploy the current infra/ (cdk deploy) or name the right stack with --stack-name.",
    );
  }
  return Object.fromEntries(REQUIRED_OUTPUTS.map((k) => [k, byKey.get(k)!])) as unknown as StackOutputs;
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
