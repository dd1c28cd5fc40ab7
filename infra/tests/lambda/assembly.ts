import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DeployedFunction } from "./invoke.js";

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

export interface CloudAssembly {
  dir: string;
  resources: Record<string, Resource>;
}

export function readAssembly(dir: string, stack = "Thumbs"): CloudAssembly {
  const template = JSON.parse(readFileSync(join(dir, `${stack}.template.json`), "utf8")) as {
    Resources: Record<string, Resource>;
  };
  return { dir, resources: template.Resources };
}

/** What a logical id names without CDK's hash suffix: `SliceTopicCD64412B` → `SliceTopic`. */
const baseId = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, "");

/**
 * The values this machine's stand-ins give the template's references: `Ref` by resource (logical id
 * without its hash), `Fn::GetAtt` by `Resource.Attribute`.
 */
export interface StandIns {
  refs: Record<string, string>;
  attributes: Record<string, string>;
}

/**
 * Resolves a CloudFormation value (a string, Ref, Fn::GetAtt or Fn::Join) against the stand-ins. A
 * reference nothing stands in for fails, naming it: a variable the template gains must be given a
 * local value on purpose.
 */
export function resolveValue(value: unknown, standIns: StandIns, where: string): string {
  if (typeof value === "string") return value;
  const intrinsic = value as Record<string, unknown>;
  if (typeof intrinsic.Ref === "string") {
    const resolved = standIns.refs[baseId(intrinsic.Ref)];
    if (resolved === undefined) throw new Error(`${where}: nothing stands in for Ref ${intrinsic.Ref}`);
    return resolved;
  }
  if (Array.isArray(intrinsic["Fn::GetAtt"])) {
    const [id, attribute] = intrinsic["Fn::GetAtt"] as [string, string];
    const resolved = standIns.attributes[`${baseId(id)}.${attribute}`];
    if (resolved === undefined) throw new Error(`${where}: nothing stands in for ${id}.${attribute}`);
    return resolved;
  }
  if (Array.isArray(intrinsic["Fn::Join"])) {
    const [separator, parts] = intrinsic["Fn::Join"] as [string, unknown[]];
    return parts.map((part) => resolveValue(part, standIns, where)).join(separator);
  }
  throw new Error(`${where}: cannot resolve ${JSON.stringify(value)}`);
}

/** A function of the template (logical id `<name>Function…`), its bundle and resolved environment. */
export function deployedFunction(
  assembly: CloudAssembly,
  name: string,
  standIns: StandIns,
): DeployedFunction {
  const match = Object.entries(assembly.resources).find(
    ([id, r]) => r.Type === "AWS::Lambda::Function" && baseId(id) === `${name}Function`,
  );
  if (!match) throw new Error(`The template has no ${name}Function`);
  const props = match[1].Properties as {
    Code: { S3Key: string };
    Handler: string;
    MemorySize: number;
    Timeout: number;
    Environment: { Variables: Record<string, unknown> };
  };
  const environment = Object.fromEntries(
    Object.entries(props.Environment.Variables).map(([key, value]) => [
      key,
      resolveValue(value, standIns, `${name} ${key}`),
    ]),
  );
  return {
    name: `Thumbs-${name}`,
    taskRoot: join(assembly.dir, `asset.${props.Code.S3Key.replace(/\.zip$/, "")}`),
    handler: props.Handler,
    memoryMb: props.MemorySize,
    timeoutSeconds: props.Timeout,
    environment,
  };
}
