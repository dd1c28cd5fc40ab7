import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the "source" export condition), not dist/.
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/helpers/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // What tests poll for (an order's progress, a worker's report) takes seconds on two busy cores, not
    // the default 1 s: a poll waits on its condition, the test's own timeout bounds it.
    expect: { poll: { timeout: 30_000 } },
    // Each pipeline test starts its own worker processes: two files at once saturate two cores already.
    maxWorkers: 2,
  },
});
