import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { BUNDLING_STACKS } from "aws-cdk-lib/cx-api";
import { addThumbsStack, OFFLINE_ENV } from "../lib/app.js";
import { INFRA_DIR } from "../lib/paths.js";
import type { ThumbsStack } from "../lib/thumbs-stack.js";

/** The context `cdk synth` would see: cdk.json's feature flags and placeholder AZs. */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(join(INFRA_DIR, "cdk.json"), "utf8")) as { context: Record<string, unknown> }
).context;

export interface Synthesized {
  app: App;
  stack: ThumbsStack;
  template: Template;
}

/**
 * Synthesizes the app in memory with cdk-nag's AwsSolutions checks, as `cdk synth` does, plus any
 * context overrides. Asset bundling is skipped (CDK's documented `aws:cdk:bundling-stacks` context):
 * it changes only asset hashes, and the CLI test bundles for real.
 */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const app = testApp({ ...CDK_JSON_CONTEXT, [BUNDLING_STACKS]: [], ...context });
  const stack = addThumbsStack(app, OFFLINE_ENV);
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

const outdirs: string[] = [];

/**
 * An App whose output folder is removed after the test file: one without an outdir makes a fresh
 * temp folder as soon as it is constructed, and leaves it there.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  const outdir = mkdtempSync(join(tmpdir(), "thumbs-synth-"));
  outdirs.push(outdir);
  return new App({ outdir, context });
}

/** Removes every synth's output folder: run after each test file (setup.ts), pass or fail. */
export function removeSynthOutputs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;

/** The template's resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The one resource of a type whose logical id starts with `prefix` (CDK appends a hash). */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`Expected one ${type} named ${prefix}*, found ${ids.join(", ") || "none"}.`);
  return ids[0]!;
}
