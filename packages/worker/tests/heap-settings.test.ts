import { spawnSync } from "node:child_process";
import { describe, expect, it, vi } from "vitest";

// Setting a V8 flag changes the whole test process: V8's API is faked here, and the flag itself is
// tried on a Node of its own. Its effect (full GCs per image) is measured by the load test.
const setFlagsFromString = vi.hoisted(() => vi.fn());
vi.mock("node:v8", () => ({ setFlagsFromString }));
const { applyHeapSettings, HEAP_GROWING_PERCENT } = await import("../src/heap-settings.js");

describe("heap settings", () => {
  it("lets the old generation grow to 4× its live size before V8 marks it again", () => {
    // Act
    applyHeapSettings();

    // Assess
    expect(HEAP_GROWING_PERCENT).toBe(300);
    expect(setFlagsFromString).toHaveBeenCalledWith("--heap-growing-percent=300");
  });

  it("names a flag this Node's V8 knows (an unknown one would be ignored with a warning)", () => {
    // Act
    const run = spawnSync(process.execPath, [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, "-e", ""], {
      encoding: "utf8",
    });

    // Assess
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
