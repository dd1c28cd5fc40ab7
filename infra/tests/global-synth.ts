import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { INFRA_DIR } from "../lib/paths.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The cloud assembly of one real `cdk synth`, bundles included, shared by every test file. */
    cdkOut: string;
  }
}

/** The environment of a machine with no AWS credentials or account configured at all. */
export function credentialFreeEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(AWS_|CDK_DEFAULT_)/.test(key)),
  ) as NodeJS.ProcessEnv;
  return {
    ...env,
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), "no-aws-credentials"),
    AWS_CONFIG_FILE: join(tmpdir(), "no-aws-config"),
    AWS_EC2_METADATA_DISABLED: "true",
    CDK_DISABLE_CLI_TELEMETRY: "true",
  };
}

/** One real synth by the CDK CLI, without credentials, before any test file runs; removed after all. */
export default async function synthOnce(project: TestProject): Promise<() => void> {
  const outdir = mkdtempSync(join(tmpdir(), "thumbs-cdk-out-"));
  await promisify(execFile)(
    join(INFRA_DIR, "node_modules", ".bin", "cdk"),
    ["synth", "--quiet", "--no-notices", "--output", outdir],
    { cwd: INFRA_DIR, env: credentialFreeEnv(), maxBuffer: 16 * 1024 * 1024 },
  );
  project.provide("cdkOut", outdir);
  return () => rmSync(outdir, { recursive: true, force: true });
}
