import { Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { synth } from "./synth.js";

/**
 * Every acknowledged cdk-nag finding in the app: rule id → the reasons given, one per construct.
 * (CDK acknowledges some of its own template-validation rules, e.g. CloudFormation-Validate::W3010.)
 */
function acknowledgements(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        const ruleId = id.replace(/^annotation::/i, "");
        if (!ruleId.startsWith("AwsSolutions-")) continue;
        found.set(ruleId, [...(found.get(ruleId) ?? []), String(reason)]);
      }
    }
  }
  return found;
}

// Prepare (shared): each synth runs the checks already and would throw on an unacknowledged finding.
const configurations = [
  ["default", synth()],
  [
    "Multi-AZ Redis, imported originals, tracing",
    synth({ redisMultiAz: "true", originalsBucketName: "my-photos", tracing: "true" }),
  ],
] as const;

describe.each(configurations)("cdk-nag AwsSolutions (%s)", (_name, { app }) => {
  it("reports no finding that is not acknowledged", () => {
    // Act
    const result = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(
      result.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(result.success).toBe(true);
  });

  it("justifies every acknowledgement in its reason", () => {
    // Act
    const acknowledged = acknowledgements(app);

    // Assess
    expect(acknowledged.size).toBeGreaterThan(0);
    for (const [id, reasons] of acknowledged) {
      for (const reason of reasons) {
        expect(reason.length, `${id}: "${reason}"`).toBeGreaterThanOrEqual(80);
        expect(reason).not.toMatch(/\b(todo|tbd|fixme)\b/i);
      }
    }
  });
});

describe("acknowledged rules", () => {
  it("are exactly the reviewed set: a new one needs a reason here too", () => {
    // Prepare
    const [, { app }] = configurations[0];

    // Act
    const ids = [...acknowledgements(app).keys()].map((id) =>
      id.replace(/\[Resource::.*\/\*\]$/, "[Resource::<objects>]"),
    );

    // Assess
    expect(new Set(ids)).toEqual(
      new Set([
        "AwsSolutions-IAM5[Resource::*]", // Lambda VPC network interfaces (and X-Ray when tracing)
        "AwsSolutions-IAM5[Resource::<objects>]", // object ARNs of the originals / thumbnails buckets
        "AwsSolutions-L1", // nodejs22.x by design
        "AwsSolutions-SMG4", // no managed rotation for ElastiCache AUTH tokens
        "AwsSolutions-AEC4", // single-node Redis unless redisMultiAz=true
        "AwsSolutions-S1", // the access-log bucket itself
        "AwsSolutions-SQS3", // the dead-letter queues themselves
      ]),
    );
  });
});
