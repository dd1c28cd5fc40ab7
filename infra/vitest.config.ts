import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    include: ["tests/**/*.test.ts"],
    passWithNoTests: false,
    // One synth per file; the CLI test also bundles three functions and installs sharp from npm.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
