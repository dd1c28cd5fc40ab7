import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the "source" export condition), not dist/.
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["tests/**/*.test.ts"],
    passWithNoTests: false,
    // One real `cdk synth` (bundles included) shared by the CLI and bundle tests.
    globalSetup: ["tests/global-synth.ts"],
    setupFiles: ["tests/setup.ts"],
    // One synth per file; the CLI test also bundles three functions and installs sharp from npm.
    testTimeout: 60_000,
    // Generous: on a busy 2-core machine the real CLI synth (3 bundles, 2 npm installs) took minutes.
    hookTimeout: 600_000,
  },
});
