import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the "source" export condition), not dist/.
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["tests/**/*.test.ts"],
    passWithNoTests: false,
    // Stack tests fork worker processes and wait out visibility timeouts.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // What tests poll for (a forked worker becoming ready, a long-polled queue) takes seconds, not 1 s.
    expect: { poll: { timeout: 20_000 } },
    // Each stack test starts its own worker processes: two files at once saturate two cores already.
    maxWorkers: 2,
  },
});
