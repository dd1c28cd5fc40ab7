import { describe, expect, it } from "vitest";
import { z } from "zod";
import { envBool, envInt, envSizes, readEnv, redisEnvShape } from "../src/config.js";
import { ConfigError } from "../src/errors.js";

describe("readEnv", () => {
  it("parses and defaults", () => {
    // Act
    const e = readEnv(
      { N: envInt(1, 10).default(3), B: envBool.default(false), S: envSizes },
      { B: "true", S: "a:10x20" },
    );

    // Assess
    expect(e).toEqual({ N: 3, B: true, S: [{ name: "a", width: 10, height: 20 }] });
  });

  it("names every missing or bad variable, what it expected and what it got", () => {
    // Prepare
    const read = () =>
      readEnv(
        { ...redisEnvShape, TOPIC: z.string().describe("the slice topic ARN"), N: envInt(1, 10) },
        { REDIS_URL: "http://x", N: "99" },
      );

    // Act + Assess
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      /REDIS_URL is invalid: expected a redis:\/\/ or rediss:\/\/ URL.*received "http:\/\/x"/,
    );
    expect(read).toThrow(/TOPIC is required \(the slice topic ARN\)/);
    expect(read).toThrow(/N is invalid.*received "99"/);
  });

  it("rejects a malformed size list", () => {
    expect(() => readEnv({ S: envSizes }, { S: "large:1024" })).toThrow(
      /expected name:WIDTHxHEIGHT, got "large:1024"/,
    );
  });
});
