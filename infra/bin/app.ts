import { App } from "aws-cdk-lib";
import { addThumbsStack, OFFLINE_ENV } from "../lib/app.js";

const app = new App();
// The CLI fills these from the caller's credentials; without any, synth falls back to a placeholder
// environment whose availability zones cdk.json provides, so nothing is looked up.
addThumbsStack(
  app,
  {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? OFFLINE_ENV.account,
    region: process.env.CDK_DEFAULT_REGION ?? OFFLINE_ENV.region,
  },
  // Another name deploys a second, independent copy (e.g. -c stackName=ThumbsStaging).
  app.node.tryGetContext("stackName") ?? "Thumbs",
);
app.synth();
