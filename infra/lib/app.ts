import { type App, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { readConfig } from "./config.js";
import { ThumbsStack } from "./thumbs-stack.js";

/** Stands in for the account and region when none is configured, so synth needs no credentials. */
export const OFFLINE_ENV = { account: "123456789012", region: "us-east-1" } as const;

/**
 * Adds the stack to an app, checked by cdk-nag's AwsSolutions pack: an unacknowledged finding fails
 * synthesis, so `cdk synth` and `cdk deploy` cannot go past one.
 */
export function addThumbsStack(app: App, env: Environment, stackName = "Thumbs"): ThumbsStack {
  const stack = new ThumbsStack(app, stackName, { env, config: readConfig(app.node) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
