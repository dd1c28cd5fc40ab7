import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adminApiEnv, coordinatorEnv, deadLetterEnv, environment, workerEnv } from "../src/environment.js";

const ARCHITECTURE = join(import.meta.dirname, "..", "..", "..", "docs", "ARCHITECTURE.md");
const CONTRACTS = { coordinatorEnv, workerEnv, deadLetterEnv, adminApiEnv };

/** The variables named in the first column of ARCHITECTURE.md's configuration table. */
function documentedVariables(): Set<string> {
  const doc = readFileSync(ARCHITECTURE, "utf8");
  const section = doc.slice(doc.indexOf("## Configuration (environment)"), doc.indexOf("## Admin API"));
  const names = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => line.split("|")[1]!.match(/`[A-Z0-9_]+`|\/ `?_[A-Z0-9_]+`?/g) ?? []);
  // `THUMBNAIL_SIZES` / `_FORMAT` abbreviates THUMBNAIL_FORMAT.
  return new Set(
    names.map((n) => n.replace(/[`/ ]/g, "")).map((n) => (n.startsWith("_") ? `THUMBNAIL${n}` : n)),
  );
}

describe("the environment contracts", () => {
  it("are documented, every variable with a description, and the docs name no other", () => {
    // Prepare
    const documented = documentedVariables();
    const contracted = new Set(Object.values(CONTRACTS).flatMap((contract) => Object.keys(contract)));

    // Act
    const undescribed = Object.entries(CONTRACTS).flatMap(([name, contract]) =>
      Object.entries(contract)
        .filter(([, schema]) => !schema.description)
        .map(([variable]) => `${name}.${variable}`),
    );

    // Assess
    expect(undescribed).toEqual([]);
    expect([...contracted].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !contracted.has(v))).toEqual([]);
  });

  it("writes only what is set: an unset option keeps the function's default", () => {
    // Act
    const env = environment(coordinatorEnv, {
      REDIS_URL: "rediss://example:6380",
      SLICE_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:slices",
      THUMBNAIL_QUALITY: undefined,
    });

    // Assess
    expect(env).toEqual({
      REDIS_URL: "rediss://example:6380",
      SLICE_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:slices",
    });
  });
});
