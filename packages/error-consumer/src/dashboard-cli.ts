#!/usr/bin/env node
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { ConfigError } from "@thumbs/core";
import { Command, InvalidArgumentError } from "commander";
import { regionOfApiUrl } from "./sign-request.js";
import { createSigningProxy } from "./signing-proxy.js";

// Node 20 is supported locally (Lambda runs nodejs22.x): the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const apiUrl = (value: string) => {
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || url.protocol === "http:") return url;
  } catch {}
  throw new InvalidArgumentError(
    "expected the stack's AdminApiUrl output, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/",
  );
};
const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError("expected a port from 0 to 65535");
  return n;
};

const program = new Command()
  .name("thumbs-dashboard")
  .description(
    "Serves the order-review dashboard for a deployed stack on this machine (127.0.0.1 only) and signs\n" +
      "its calls to the IAM-protected admin API with your AWS credentials (the usual chain: AWS_PROFILE,\n" +
      "SSO, environment, instance role). Ctrl-C stops it.",
  )
  .option("--api <url>", "the stack's AdminApiUrl output (default: $THUMBS_ADMIN_API_URL)", apiUrl)
  .option("--region <region>", "the API's region (default: from the URL, else $AWS_REGION)")
  .option("--profile <name>", "AWS profile to sign with (default: the usual credential chain)")
  .option("--port <port>", "local port (default: a free one)", port, 0)
  .showHelpAfterError();

async function main(): Promise<void> {
  const argv =
    process.argv[2] === "--" ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv;
  const o = program.parse(argv).opts<{ api?: URL; region?: string; profile?: string; port: number }>();
  const api =
    o.api ?? (process.env.THUMBS_ADMIN_API_URL ? apiUrl(process.env.THUMBS_ADMIN_API_URL) : undefined);
  if (!api) {
    throw new ConfigError(
      "No admin API given: pass --api <AdminApiUrl> (an output of `cdk deploy`) or set THUMBS_ADMIN_API_URL.",
    );
  }
  const region = o.region ?? regionOfApiUrl(api) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region)
    throw new ConfigError(`Cannot tell the region of ${api.host}: pass --region or set AWS_REGION.`);

  const credentials = defaultProvider(o.profile ? { profile: o.profile } : {});
  // Resolved now so a missing login fails here, with what to do, rather than as a 502 in the browser.
  await credentials().catch((error: unknown) => {
    throw new ConfigError(
      "No AWS credentials found to sign the admin API's requests: set AWS_PROFILE (or --profile), run " +
        "`aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
      { cause: error },
    );
  });

  const token = randomBytes(18).toString("base64url");
  const server = createSigningProxy({ api, region, credentials, token });
  await new Promise<void>((resolve) => server.listen(o.port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  console.log(`Signing requests for ${api.origin} (${region}) with your AWS credentials.`);
  console.log(`Dashboard: http://127.0.0.1:${bound}/dashboard/#token=${token}`);
  console.log("Ctrl-C stops it.");
  await new Promise<void>((resolve) => process.once("SIGINT", resolve));
  server.close();
  server.closeAllConnections();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exit(2);
});
