// Loads a function's bundle the way Lambda's Node.js runtime does and runs events through it, one after
// another in one process (a warm container). Run by the Node.js 22 that Lambda runs, never by vitest.
//
//   node <Lambda's heap flags> bootstrap.mjs <task root> <handler, e.g. index.handler> <events.json> <out.json>
//
// Writes { init, invocations: [{ ok, result } | { ok: false, errorType, errorMessage, trace }], rss }:
// rss is the process's peak resident set (what Lambda's memory limit counts), in bytes.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [taskRoot, handlerSetting, eventsFile, outFile] = process.argv.slice(2);
const [moduleName, exportName] = handlerSetting.split(".");
const timeoutMs = Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT) * 1000;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

// The runtime imports `<task root>/<module>.mjs` and then looks up the export: an import that throws is
// an init error, as on Lambda.
const handler = (await import(pathToFileURL(join(taskRoot, `${moduleName}.mjs`)).href))[exportName];
if (typeof handler !== "function") throw new Error(`${handlerSetting} is not a function`);
const init = { rss: peakRss() };

const events = JSON.parse(readFileSync(eventsFile, "utf8"));
const invocations = [];
for (const [n, event] of events.entries()) {
  const deadline = Date.now() + timeoutMs;
  const context = {
    awsRequestId: `bundle-test-${n}`,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: "bundle-test",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    invocations.push({ ok: true, result: await handler(event, context) });
  } catch (error) {
    // What the runtime reports for a failed invocation; reading `stack` is what makes Node map it
    // through the source map when NODE_OPTIONS has --enable-source-maps.
    invocations.push({
      ok: false,
      errorType: error?.name ?? typeof error,
      errorMessage: error?.message ?? String(error),
      trace: String(error?.stack ?? "").split("\n"),
    });
  }
}
writeFileSync(outFile, JSON.stringify({ init, invocations, rss: peakRss() }));
// Lambda freezes the process after the response; nothing waits for the event loop here.
process.exit(0);
