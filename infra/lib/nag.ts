import { Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * Acknowledges one cdk-nag finding on a construct (and its children). Every call site states why the
 * finding is acceptable; the nag test refuses short or missing reasons.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The cdk-nag finding id for a wildcard IAM resource, rendered the way cdk-nag flattens references
 * (`<Logical.Arn>/*`), so an acknowledgement names exactly one resource pattern instead of all of IAM5.
 */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(arn))}]`;
}

function flatten(node: unknown): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/\}/g, ">");
  const value = node as Record<string, unknown>;
  if (Array.isArray(value["Fn::Join"])) {
    const [delimiter, items] = value["Fn::Join"] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (Array.isArray(value["Fn::GetAtt"])) {
    const [resource, attribute] = value["Fn::GetAtt"] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if ("Ref" in value) return `<${flatten(value.Ref)}>`;
  return JSON.stringify(node);
}
