import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AssetHashType, DockerImage, type ILocalBundling } from "aws-cdk-lib";
import { Code } from "aws-cdk-lib/aws-lambda";
import { type BuildOptions, buildSync, type Metafile } from "esbuild";
import { REPO_ROOT } from "./paths.js";

/** The bundle's file name, and the function's handler setting that points into it. */
export const BUNDLE_FILE = "index.mjs";
export const BUNDLE_HANDLER = "index.handler";

/**
 * ESM output keeps the packages' top-level await working; CommonJS dependencies bundled into it
 * (ioredis, parts of the AWS SDK) still call `require` for Node built-ins, so give them one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * For worker-thread bundles: Emscripten's Node glue (libheif-js) reads `__dirname` at load, which an
 * ES module does not define.
 */
export const ESM_DIRNAME_BANNER =
  "import { fileURLToPath as __fileURLToPath } from 'node:url'; const __dirname = __fileURLToPath(new URL('.', import.meta.url));";

export interface BundleOptions {
  /** The handler's TypeScript source. */
  entry: string;
  /**
   * Native modules (name → exact version) a bundle may import: always left external, and installed
   * for Lambda's platform into the bundles that do import them (found in esbuild's metafile), so a
   * package that starts to use sharp gets it without a change here.
   */
  nativeModules: Record<string, string>;
}

/**
 * The function's code, bundled on this machine by esbuild's API. Not NodejsFunction's bundler: in a
 * pnpm workspace it runs `pnpm exec esbuild` from the repository root, which needs esbuild on PATH
 * and can start a `pnpm install` of the whole workspace in the middle of a synth. Never Docker: the
 * bundle needs nothing a container would provide, since native modules come prebuilt from npm.
 */
export function bundledCode(options: BundleOptions): Code {
  return Code.fromAsset(dirname(options.entry), {
    // Hash what is deployed, not the sources: a change in a workspace dependency changes the asset.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the API, never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry("public.ecr.aws/sam/build-nodejs22.x"),
      local: new LocalEsbuild(options),
    },
  });
}

class LocalEsbuild implements ILocalBundling {
  constructor(private readonly options: BundleOptions) {}

  tryBundle(outputDir: string): boolean {
    const external = Object.keys(this.options.nativeModules);
    const common = {
      absWorkingDir: REPO_ROOT,
      bundle: true,
      platform: "node" as const,
      target: "node22",
      format: "esm" as const,
      mainFields: ["module", "main"],
      // Resolve @thumbs/* to their TypeScript sources (the "source" export condition): no build step.
      conditions: ["source"],
      banner: { js: ESM_REQUIRE_BANNER },
      // Everything else is bundled, the AWS SDK included: the versions the packages were tested
      // with, not whatever the runtime ships.
      external,
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      logLevel: "warning",
      metafile: true,
    } satisfies BuildOptions;
    const { metafile } = buildSync({
      ...common,
      entryPoints: [this.options.entry],
      outfile: join(outputDir, BUNDLE_FILE),
    });
    // Worker-thread entries (the worker's HEIC decoder) are bundled beside index.mjs, under their own
    // name, where the module that starts them finds them: `new URL("./x.mjs", import.meta.url)`.
    const threads = threadEntries(metafile, readFileSync(join(outputDir, BUNDLE_FILE), "utf8")).map(
      (entry) =>
        buildSync({
          ...common,
          banner: { js: `${ESM_REQUIRE_BANNER} ${ESM_DIRNAME_BANNER}` },
          entryPoints: [entry],
          outfile: join(outputDir, basename(entry)),
        }).metafile,
    );
    const imported = new Set(
      [metafile, ...threads].flatMap((m) =>
        Object.values(m.outputs).flatMap((o) => o.imports.map((i) => i.path)),
      ),
    );
    const needed = Object.entries(this.options.nativeModules).filter(([name]) => imported.has(name));
    if (needed.length > 0) {
      installForLambdaArm64(outputDir, Object.fromEntries(needed));
      assertLambdaBinariesInstalled(outputDir, Object.fromEntries(needed));
    }
    return true;
  }
}

/** A sibling `.mjs` file located relative to the module, the way a worker thread's entry is found. */
const SIBLING_MODULE = /new URL\(\s*["']\.\/([\w.-]+\.mjs)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The worker-thread entry files a bundle starts (absolute paths): esbuild leaves
 * `new URL("./x.mjs", import.meta.url)` as it is, so each such file that survives in the bundle's
 * code is found in the bundled source that names it, and bundled on its own.
 */
export function threadEntries(metafile: Metafile, bundle: string): string[] {
  const started = new Set([...bundle.matchAll(SIBLING_MODULE)].map((m) => m[1]!));
  if (started.size === 0) return [];
  const found = Object.keys(metafile.inputs)
    .filter((input) => !input.includes("node_modules") && /\.[cm]?[jt]s$/.test(input))
    .flatMap((input) =>
      [...readFileSync(join(REPO_ROOT, input), "utf8").matchAll(SIBLING_MODULE)]
        .filter((m) => started.has(m[1]!))
        .map((m) => join(REPO_ROOT, dirname(input), m[1]!)),
    );
  return [...new Set(found)];
}

/**
 * Installs native modules (sharp) beside the bundle for Lambda's linux-arm64 glibc, whatever machine
 * synthesizes: esbuild cannot bundle a `.node` addon, and a plain install would fetch the build
 * machine's platform (x64 here).
 *
 * - `--prefix` and a package.json in the output dir: without them npm walks up to the nearest
 *   package.json (infra/ when synthesizing into infra/cdk.out) and installs there instead.
 * - `--no-bin-links`: a symlink in node_modules/.bin would not survive the asset zip.
 * - `--ignore-scripts`: prebuilt binaries need no install script, and one could only build for the
 *   wrong platform.
 */
function installForLambdaArm64(outputDir: string, modules: Record<string, string>): void {
  writeFileSync(join(outputDir, "package.json"), '{ "private": true }\n');
  const specs = Object.entries(modules).map(([name, version]) => `${name}@${version}`);
  // On Windows npm is npm.cmd, which Node runs only through a shell (and then unquoted).
  const windows = process.platform === "win32";
  const args = [
    "install",
    `--prefix=${outputDir}`,
    "--os=linux",
    "--cpu=arm64",
    "--libc=glibc",
    "--omit=dev",
    "--no-save",
    "--no-package-lock",
    "--no-bin-links",
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    ...specs,
  ];
  execFileSync(npmCommand(), windows ? args.map((a) => (/\s/.test(a) ? `"${a}"` : a)) : args, {
    cwd: outputDir,
    stdio: ["ignore", "ignore", "inherit"],
    shell: windows,
  });
  // npm's hidden lockfile is install metadata the function never reads.
  rmSync(join(outputDir, "node_modules", ".package-lock.json"), { force: true });
}

/** The npm executable: `npm.cmd` on Windows. */
export function npmCommand(platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? "npm.cmd" : "npm";
}

/**
 * The package that carries each native module's Lambda (linux-arm64 glibc) binary. npm installs it
 * as an optional dependency only when it honours --os/--cpu/--libc; an npm too old for them quietly
 * installs the build machine's binary instead, and the function would fail at its first import.
 */
export const LAMBDA_BINARY_PACKAGES: Record<string, string> = { sharp: "@img/sharp-linux-arm64" };

/** The Lambda binary packages missing from `outputDir/node_modules` for these modules. */
export function missingLambdaBinaries(outputDir: string, modules: Record<string, string>): string[] {
  return Object.keys(modules)
    .map((name) => LAMBDA_BINARY_PACKAGES[name])
    .filter((pkg): pkg is string => pkg !== undefined)
    .filter((pkg) => !existsSync(join(outputDir, "node_modules", ...pkg.split("/"), "package.json")));
}

/** Fails synth, saying what is missing and how to check, when a Lambda binary was not installed. */
export function assertLambdaBinariesInstalled(
  outputDir: string,
  modules: Record<string, string>,
  platform: NodeJS.Platform = process.platform,
): void {
  const missing = missingLambdaBinaries(outputDir, modules);
  if (missing.length === 0) return;
  const specs = Object.entries(modules).map(([name, version]) => `${name}@${version}`);
  throw new Error(
    `The bundle in ${outputDir} imports ${Object.keys(modules).join(", ")} but has no ${missing.join(", ")} ` +
      "after installing for Lambda: npm did not fetch the linux-arm64 glibc binary, so the function " +
      "would fail at its first import. This needs a recent npm that knows --os, --cpu and --libc " +
      "(npm --version), able to reach the registry. Check by hand in an empty directory: " +
      `${npmCommand(platform)} install --os=linux --cpu=arm64 --libc=glibc ${specs.join(" ")} ` +
      `and look for node_modules/${missing[0]}.`,
  );
}
